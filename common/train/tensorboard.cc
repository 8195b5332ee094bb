#include "common/train/tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/plot/bins.h"
#include "common/train/tensorboard_event.pb.h"

namespace common::train {
namespace {

constexpr int kDtString = 7;  // TensorFlow's DataType DT_STRING

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void PutLittleEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

tensorboard::Event NewEvent(int64_t step) {
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  return event;
}

}  // namespace

uint32_t MaskedCrc32c(const std::string& data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  const uint32_t c = crc.checksum();
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string EventRecord(const std::string& payload) {
  std::string length;
  PutLittleEndian(length, payload.size(), 8);
  std::string out = length;
  PutLittleEndian(out, MaskedCrc32c(length), 4);
  out += payload;
  PutLittleEndian(out, MaskedCrc32c(payload), 4);
  return out;
}

absl::StatusOr<std::unique_ptr<EventWriter>> EventWriter::Create(const std::string& dir) {
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  const std::string path =
      absl::StrCat(dir, "/events.out.tfevents.", static_cast<int64_t>(WallTime()), ".", host, ".",
                   static_cast<int64_t>(getpid()));
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  }
  std::unique_ptr<EventWriter> writer(new EventWriter(path, file));
  tensorboard::Event event = NewEvent(0);
  event.set_file_version("brain.Event:2");
  if (absl::Status s = writer->Write(event.SerializeAsString()); !s.ok()) return s;
  return writer;
}

EventWriter::~EventWriter() { std::fclose(file_); }

absl::Status EventWriter::Write(const std::string& event_bytes) {
  const std::string record = EventRecord(event_bytes);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0) {
    return absl::DataLossError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status EventWriter::AddScalars(int64_t step,
                                     const std::vector<std::pair<std::string, double>>& values) {
  tensorboard::Event event = NewEvent(step);
  for (const auto& [tag, value] : values) {
    tensorboard::Summary::Value* v = event.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  return Write(event.SerializeAsString());
}

absl::Status EventWriter::AddHistogram(const std::string& tag, int64_t step,
                                       const std::vector<double>& values, int bins) {
  const std::vector<double> finite = plot::FiniteValues(values);
  if (finite.empty() || bins < 1) return absl::OkStatus();
  tensorboard::Event event = NewEvent(step);
  tensorboard::Summary::Value* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  tensorboard::HistogramProto* h = v->mutable_histo();
  const auto [lo, hi] = std::minmax_element(finite.begin(), finite.end());
  const double min = *lo, max = *hi;
  double sum = 0, sum_squares = 0;
  for (double x : finite) sum += x, sum_squares += x * x;
  h->set_min(min);
  h->set_max(max);
  h->set_num(static_cast<double>(finite.size()));
  h->set_sum(sum);
  h->set_sum_squares(sum_squares);
  const double width = max > min ? (max - min) / bins : 1.0;
  if (max == min) bins = 1;
  const std::vector<double> counts = plot::BinCounts(finite, min, width, bins);
  for (int b = 0; b < bins; ++b) {
    h->add_bucket_limit(b == bins - 1 ? max : min + (b + 1) * width);
    h->add_bucket(counts[b]);
  }
  return Write(event.SerializeAsString());
}

absl::Status EventWriter::AddText(const std::string& tag, int64_t step,
                                  const std::string& markdown) {
  tensorboard::Event event = NewEvent(step);
  tensorboard::Summary::Value* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
  v->mutable_tensor()->set_dtype(kDtString);
  v->mutable_tensor()->mutable_tensor_shape();  // a scalar string
  v->mutable_tensor()->add_string_val(markdown);
  return Write(event.SerializeAsString());
}

std::vector<std::string> EventFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("events.out.tfevents.", 0) == 0) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace common::train
