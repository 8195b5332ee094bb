#include "common/data/tiny_imagenet.h"

#include <jpeglib.h>
#include <setjmp.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::data {
namespace {

constexpr int64_t kSide = 64;

// libjpeg reports errors through a callback; jump back instead of its default exit().
struct ErrorManager {
  jpeg_error_mgr base;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnError(j_common_ptr info) {
  auto* err = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, err->message);
  longjmp(err->jump, 1);
}

std::string Resolve(const std::string& dir) {
  const std::string sub = dir + "/tiny-imagenet-200";
  return FileExists(sub + "/wnids.txt") ? sub : dir;
}

absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileBytes(path));
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    lines.emplace_back(absl::StripAsciiWhitespace(line));
  }
  return lines;
}

absl::StatusOr<torch::Tensor> LoadImage(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  ASSIGN_OR_RETURN(torch::Tensor image, DecodeJpeg(bytes, path));
  if (image.size(1) != kSide || image.size(2) != kSide) {
    return absl::DataLossError(absl::StrCat(path, ": ", image.size(1), "x", image.size(2),
                                            " image, Tiny-ImageNet images are 64x64"));
  }
  return image;
}

absl::Status LoadTrain(const std::string& root, const std::vector<std::string>& wnids,
                       ImageSplits* s) {
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  for (size_t c = 0; c < wnids.size(); ++c) {
    const std::string dir = absl::StrCat(root, "/train/", wnids[c], "/images");
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      files.push_back(entry.path());
    if (ec || files.empty()) return absl::NotFoundError(absl::StrCat(dir, ": no training images"));
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      ASSIGN_OR_RETURN(torch::Tensor image, LoadImage(f));
      images.push_back(image);
      labels.push_back(static_cast<int64_t>(c));
    }
  }
  s->train_images = torch::stack(images);
  s->train_labels = torch::tensor(labels, torch::kInt64);
  return absl::OkStatus();
}

absl::Status LoadVal(const std::string& root, const std::map<std::string, int64_t>& index,
                     ImageSplits* s) {
  const std::string annotations = root + "/val/val_annotations.txt";
  ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(annotations));
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  for (const std::string& line : lines) {
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    const auto it = fields.size() >= 2 ? index.find(fields[1]) : index.end();
    if (it == index.end()) {
      return absl::DataLossError(absl::StrCat(annotations, ": bad line '", line, "'"));
    }
    ASSIGN_OR_RETURN(torch::Tensor image, LoadImage(root + "/val/images/" + fields[0]));
    images.push_back(image);
    labels.push_back(it->second);
  }
  if (images.empty()) return absl::DataLossError(absl::StrCat(annotations, ": no images"));
  s->test_images = torch::stack(images);
  s->test_labels = torch::tensor(labels, torch::kInt64);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<torch::Tensor> DecodeJpeg(const std::string& bytes, const std::string& name) {
  jpeg_decompress_struct info;
  ErrorManager err;
  info.err = jpeg_std_error(&err.base);
  err.base.error_exit = OnError;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&info);
    return absl::DataLossError(absl::StrCat(name, ": not a readable JPEG (", err.message, ")"));
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(&info, TRUE);
  info.out_color_space = JCS_RGB;  // grey is expanded to RGB by the library
  jpeg_start_decompress(&info);
  const int64_t h = info.output_height, w = info.output_width;
  torch::Tensor hwc = torch::empty({h, w, 3}, torch::kUInt8);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = hwc.data_ptr<uint8_t>() + static_cast<int64_t>(info.output_scanline) * w * 3;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  const long warnings = err.base.num_warnings;  // e.g. premature end of data: grey filler rows
  jpeg_destroy_decompress(&info);
  if (warnings > 0) return absl::DataLossError(absl::StrCat(name, ": corrupt or truncated JPEG"));
  return hwc.permute({2, 0, 1}).contiguous();
}

absl::StatusOr<std::string> EncodeJpeg(const torch::Tensor& image, int quality) {
  if (image.dim() != 3 || image.size(0) != 3 || image.scalar_type() != torch::kUInt8) {
    return absl::InvalidArgumentError("EncodeJpeg expects a [3, H, W] uint8 image");
  }
  const torch::Tensor hwc = image.permute({1, 2, 0}).contiguous();
  jpeg_compress_struct info;
  jpeg_error_mgr err;
  info.err = jpeg_std_error(&err);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = static_cast<JDIMENSION>(hwc.size(1));
  info.image_height = static_cast<JDIMENSION>(hwc.size(0));
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(hwc.data_ptr<uint8_t>()) +
                   static_cast<int64_t>(info.next_scanline) * hwc.size(1) * 3;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::string out(reinterpret_cast<char*>(buffer), size);
  free(buffer);
  return out;
}

absl::StatusOr<ImageSplits> LoadTinyImageNet(const std::string& dir) {
  const std::string root = Resolve(dir);
  ASSIGN_OR_RETURN(std::vector<std::string> wnids, ReadLines(root + "/wnids.txt"));
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < wnids.size(); ++i) index[wnids[i]] = static_cast<int64_t>(i);
  ImageSplits s;
  s.format = "tiny-imagenet-200";
  s.num_classes = static_cast<int64_t>(wnids.size());
  RETURN_IF_ERROR(LoadTrain(root, wnids, &s));
  RETURN_IF_ERROR(LoadVal(root, index, &s));
  return s;
}

bool LooksLikeTinyImageNet(const std::string& dir) {
  const std::string root = Resolve(dir);
  std::error_code ec;
  return FileExists(root + "/wnids.txt") && std::filesystem::is_directory(root + "/train", ec);
}

}  // namespace common::data
