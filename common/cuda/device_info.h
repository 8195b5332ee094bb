// CUDA device queries and a host-checked smoke kernel, free of LibTorch (pure CUDA runtime),
// so that GPU binaries stay small. Built only with --config=cuda.
//
// Example:
//   if (common::cuda::DeviceCount() == 0) { /* skip: no GPU */ }
//   std::string name = common::cuda::DeviceName(0);
#ifndef COMMON_CUDA_DEVICE_INFO_H_
#define COMMON_CUDA_DEVICE_INFO_H_

#include <string>

namespace common::cuda {

// Number of visible CUDA devices; 0 when there is no driver or no device (never an error).
int DeviceCount();

// "NVIDIA H100 80GB HBM3, sm_90, 80 GiB, driver 13000" or the CUDA error text.
std::string DeviceDescription(int device);

// Hardware limits to compare achieved figures against, from the device's attributes:
// fp32 FMA peak = SMs x fp32 lanes per SM x 2 x boost clock; DRAM bandwidth = 2 x memory clock x
// bus width (zeros when the device cannot be queried).
struct DevicePeaks {
  double fp32_gflops = 0;
  double dram_gbytes_per_s = 0;
  int sm_count = 0;
};
DevicePeaks Peaks(int device);

// y[i] = a * x[i] + y[i] on the device for n host values; returns the CUDA error string, or
// an empty string on success. The wiring test of the CUDA build.
std::string Saxpy(int n, float a, const float* x, float* y);

}  // namespace common::cuda

#endif  // COMMON_CUDA_DEVICE_INFO_H_
