#include "common/data/file_bytes.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace common::data {
namespace {

absl::Status OpenError(const std::string& path) {
  const int err = errno;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(err)));
}

absl::StatusOr<std::string> ReadPlain(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return OpenError(path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return std::move(out).str();
}

// Reads with zlib's streaming inflate so that a truncated stream is detected: gzread
// silently returns what it has.
absl::StatusOr<std::string> ReadGzip(const std::string& path) {
  absl::StatusOr<std::string> compressed = ReadPlain(path);
  if (!compressed.ok()) return compressed.status();
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return absl::InternalError("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(compressed->data());
  zs.avail_in = static_cast<uInt>(compressed->size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (rc == Z_STREAM_END && zs.avail_in > 0) {  // concatenated gzip members
      rc = inflateReset(&zs);
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt or truncated gzip stream (",
                                            compressed->size(), " bytes compressed)"));
  }
  return out;
}

absl::StatusOr<std::string> Gzip(const std::string& bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, bytes.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("gzip compression failed");
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  if (absl::EndsWith(path, ".gz")) return ReadGzip(path);
  return ReadPlain(path);
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  std::string payload = bytes;
  if (absl::EndsWith(path, ".gz")) {
    absl::StatusOr<std::string> z = Gzip(bytes);
    if (!z.ok()) return z.status();
    payload = *std::move(z);
  }
  const std::string tmp = absl::StrCat(path, ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(tmp, ": cannot create: ", std::strerror(errno)));
  }
  // Written in full and on disk (fsync) before the rename makes it visible; on any failure the
  // temporary is removed and `path` keeps its old content.
  size_t done = 0;
  while (done < payload.size()) {
    const ssize_t n = ::write(fd, payload.data() + done, payload.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const int write_errno = done == payload.size() ? 0 : (errno != 0 ? errno : EIO);
  const bool synced = write_errno == 0 && ::fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (write_errno != 0 || !synced || !closed) {
    ::unlink(tmp.c_str());
    return absl::DataLossError(absl::StrCat(
        path, ": write failed: ", std::strerror(write_errno != 0 ? write_errno : sync_errno),
        " (the old file, if any, is unchanged)"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("rename ", tmp, " -> ", path, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(dir, ": cannot create: ", ec.message()));
  return absl::OkStatus();
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace common::data
