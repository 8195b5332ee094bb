// Gradient averaging for data-parallel training, the way PyTorch's DDP does it: parameters are
// grouped into buckets in the reverse order of registration (about the order in which backward
// finishes their gradients); a hook after each parameter's gradient accumulation copies the
// gradient into its bucket, and a full bucket's all-reduce starts at once, overlapping the rest
// of backward. Buckets are reduced in the same order on every rank. (c10d's own Reducer needs
// distributed-autograd headers that Debian's libtorch-dev does not ship; this is the same
// scheme on the same c10d process group.)
//
// Each rank weights its gradient by its share of the global batch, so the result is the
// gradient of the global batch's mean loss even when the shards differ in size:
//   grad = sum_r (n_r / N) * grad_r.
//
// Example (one training step):
//   GradientSync sync(*world, net->parameters());
//   const torch::Tensor mine = world->Shard(global_indices);
//   const torch::Tensor loss = criterion(net->forward(x[mine]), y[mine]);
//   optimizer.zero_grad();
//   RETURN_IF_ERROR(sync.Backward(loss, mine.size(0), global_indices.size(0)));
//   optimizer.step();
#ifndef COMMON_DIST_GRADIENT_SYNC_H_
#define COMMON_DIST_GRADIENT_SYNC_H_

#include <torch/csrc/autograd/function.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "common/dist/process_group.h"

namespace common::dist {

class GradientSync {
 public:
  // `first_bucket_bytes` for the bucket reduced first (small, so that communication starts
  // early), `bucket_bytes` for the others: DDP's defaults.
  GradientSync(ProcessGroup& group, std::vector<torch::Tensor> params,
               int64_t bucket_bytes = 25 << 20, int64_t first_bucket_bytes = 1 << 20);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // loss.backward(), then every parameter's .grad is sum_r (local_n_r / global_n) * grad_r over
  // the ranks. `loss` is the mean over this rank's local_n examples; undefined when local_n is 0
  // (a global batch smaller than the world). Gradients already in .grad (accumulated by earlier
  // backward calls since zero_grad) are part of grad_r; a parameter without one on a rank counts
  // as zero there, and every parameter has a gradient afterwards. At world size 1 this is
  // loss.backward() alone.
  // With `reduce` false, the gradient is only accumulated locally (the micro-batches of a
  // gradient accumulation before its last; the last one reduces the sum).
  absl::Status Backward(const torch::Tensor& loss, int64_t local_n, int64_t global_n,
                        bool reduce = true);

  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    torch::Tensor flat;
    int64_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };
  void OnGradReady(size_t param);
  void LaunchReadyBuckets();  // in bucket order, as far as they are complete
  void FillBucketSlot(size_t param);

  ProcessGroup& group_;
  std::vector<torch::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;   // param -> bucket
  std::vector<int64_t> offset_of_;  // param -> offset in its bucket's flat tensor
  std::vector<bool> ready_;         // param filled in this backward
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
  std::vector<uintptr_t> hook_keys_;
  std::mutex mu_;
  bool active_ = false;  // hooks act only inside Backward
  double scale_ = 1;     // local_n / global_n of the current Backward
  size_t next_launch_ = 0;
};

}  // namespace common::dist

#endif  // COMMON_DIST_GRADIENT_SYNC_H_
