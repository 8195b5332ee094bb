// An owning device allocation for tests and benchmarks (plain C++ over the CUDA runtime API).
//
//   DeviceBuffer<float> d(host);        // cudaMalloc + copy
//   Kernel(d.get(), ...);
//   std::vector<float> back = d.Download();
#ifndef COMMON_CUDA_DEVICE_BUFFER_H_
#define COMMON_CUDA_DEVICE_BUFFER_H_

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace common::cuda {

// Aborts with the CUDA error text: for tests and benchmarks, where a failed call is fatal.
inline void CheckCuda(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  std::fprintf(stderr, "CUDA error in %s: %s\n", what, cudaGetErrorString(err));
  std::abort();
}

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    CheckCuda(cudaMalloc(reinterpret_cast<void**>(&ptr_), sizeof(T) * (count ? count : 1)),
              "cudaMalloc");
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { Upload(host); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(ptr_); }

  T* get() const { return ptr_; }
  size_t size() const { return count_; }

  void Upload(const std::vector<T>& host) {
    CheckCuda(cudaMemcpy(ptr_, host.data(), sizeof(T) * host.size(), cudaMemcpyHostToDevice),
              "upload");
  }
  std::vector<T> Download() const {
    std::vector<T> host(count_);
    CheckCuda(cudaMemcpy(host.data(), ptr_, sizeof(T) * count_, cudaMemcpyDeviceToHost),
              "download");
    return host;
  }

 private:
  T* ptr_ = nullptr;
  size_t count_;
};

}  // namespace common::cuda

#endif  // COMMON_CUDA_DEVICE_BUFFER_H_
