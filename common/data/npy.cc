#include "common/data/npy.h"

#include <zip.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct NpyType {
  const char* descr;
  torch::ScalarType dtype;
};

constexpr NpyType kNpyTypes[] = {
    {"<f4", torch::kFloat32}, {"<f8", torch::kFloat64}, {"<i8", torch::kInt64},
    {"<i4", torch::kInt32},   {"|u1", torch::kUInt8},   {"|i1", torch::kInt8},
    {"|b1", torch::kBool},
};

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Returns the text after `'key':` in a header dict such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
std::optional<absl::string_view> ValueOf(absl::string_view dict, absl::string_view key) {
  const std::string quoted = absl::StrCat("'", key, "':");
  const size_t pos = dict.find(quoted);
  if (pos == absl::string_view::npos) return std::nullopt;
  return absl::StripLeadingAsciiWhitespace(dict.substr(pos + quoted.size()));
}

absl::StatusOr<Header> ParseHeader(absl::string_view dict, const std::string& name) {
  const auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(name, ": bad .npy header (", what, "): ", dict));
  };
  Header h;
  std::optional<absl::string_view> descr = ValueOf(dict, "descr");
  std::optional<absl::string_view> order = ValueOf(dict, "fortran_order");
  std::optional<absl::string_view> shape = ValueOf(dict, "shape");
  if (!descr || !order || !shape) return bad("missing key");
  if (descr->size() < 2 || (*descr)[0] != '\'') return bad("descr");
  h.descr = std::string(descr->substr(1, descr->find('\'', 1) - 1));
  h.fortran_order = absl::StartsWith(*order, "True");
  if (!h.fortran_order && !absl::StartsWith(*order, "False")) return bad("fortran_order");
  const size_t close = shape->find(')');
  if (shape->empty() || (*shape)[0] != '(' || close == absl::string_view::npos) return bad("shape");
  for (absl::string_view d :
       absl::StrSplit(shape->substr(1, close - 1), ',', absl::SkipWhitespace())) {
    int64_t v;
    if (!absl::SimpleAtoi(d, &v) || v < 0) return bad("shape");
    h.shape.push_back(v);
  }
  return h;
}

absl::StatusOr<torch::ScalarType> DtypeOf(const std::string& descr, const std::string& name) {
  for (const NpyType& t : kNpyTypes) {
    if (descr == t.descr) return t.dtype;
  }
  return absl::UnimplementedError(
      absl::StrCat(name, ": unsupported .npy dtype '", descr,
                   "' (supported: <f4 <f8 <i8 <i4 |u1 |i1 |b1, little-endian)"));
}

absl::StatusOr<std::string> ReadZipMember(zip_t* zip, zip_uint64_t index, const std::string& name) {
  zip_stat_t st;
  if (zip_stat_index(zip, index, 0, &st) != 0) {
    return absl::DataLossError(absl::StrCat(name, ": cannot stat member ", index));
  }
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen_index(zip, index, 0), zip_fclose);
  if (!f) {
    return absl::DataLossError(
        absl::StrCat(name, ": cannot open member ", st.name, ": ", zip_strerror(zip)));
  }
  std::string bytes(st.size, '\0');
  const zip_int64_t got = zip_fread(f.get(), bytes.data(), st.size);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
    return absl::DataLossError(
        absl::StrCat(name, ": member ", st.name, " is corrupt or truncated"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<torch::Tensor> ParseNpy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < kMagicLen + 4 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0) {
    return absl::DataLossError(absl::StrCat(name, ": not a .npy file (bad magic string)"));
  }
  const int major = static_cast<unsigned char>(bytes[kMagicLen]);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + kMagicLen + 2;
  size_t header_len, offset;
  if (major == 1) {
    header_len = p[0] | (p[1] << 8);
    offset = kMagicLen + 4;
  } else if (major == 2 || major == 3) {
    header_len = p[0] | (p[1] << 8) | (p[2] << 16) | (size_t{p[3]} << 24);
    offset = kMagicLen + 6;
  } else {
    return absl::DataLossError(absl::StrCat(name, ": unsupported .npy format version ", major));
  }
  if (bytes.size() < offset + header_len) {
    return absl::DataLossError(absl::StrCat(name, ": truncated .npy header"));
  }
  ASSIGN_OR_RETURN(Header h,
                   ParseHeader(absl::string_view(bytes).substr(offset, header_len), name));
  ASSIGN_OR_RETURN(torch::ScalarType dtype, DtypeOf(h.descr, name));
  std::vector<int64_t> dims = h.shape;
  if (h.fortran_order) std::reverse(dims.begin(), dims.end());
  torch::Tensor t = torch::empty(dims, torch::TensorOptions().dtype(dtype));
  const size_t data_bytes = t.numel() * t.element_size();
  const size_t have = bytes.size() - offset - header_len;
  if (have != data_bytes) {
    return absl::DataLossError(absl::StrCat(name, ": shape (", absl::StrJoin(h.shape, ", "),
                                            ") of ", h.descr, " needs ", data_bytes,
                                            " data bytes, file has ", have));
  }
  std::memcpy(t.data_ptr(), bytes.data() + offset + header_len, data_bytes);
  if (h.fortran_order && t.dim() > 1) {
    std::vector<int64_t> perm(t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) perm[i] = t.dim() - 1 - i;
    t = t.permute(perm).contiguous();
  }
  return t;
}

absl::StatusOr<std::string> SerializeNpy(const torch::Tensor& t) {
  const NpyType* type = nullptr;
  for (const NpyType& c : kNpyTypes) {
    if (c.dtype == t.scalar_type()) type = &c;
  }
  if (type == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(".npy cannot hold dtype ", std::string(t.dtype().name())));
  }
  std::string shape = absl::StrJoin(t.sizes(), ", ");
  if (t.dim() == 1) shape += ",";
  std::string dict = absl::StrCat("{'descr': '", type->descr,
                                  "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Pad with spaces so that magic + version + length + dict + '\n' is a multiple of 64.
  const bool v2 = dict.size() + kMagicLen + 5 > 65535;
  const size_t prefix = kMagicLen + (v2 ? 6 : 4);
  dict.append(63 - (prefix + dict.size()) % 64, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  const size_t len = dict.size();
  for (int i = 0; i < (v2 ? 4 : 2); ++i) out.push_back(static_cast<char>(len >> (8 * i)));
  out += dict;
  torch::Tensor c = t.detach().cpu().contiguous();
  out.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  return out;
}

absl::StatusOr<torch::Tensor> ReadNpy(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  return ParseNpy(bytes, path);
}

absl::Status WriteNpy(const std::string& path, const torch::Tensor& t) {
  ASSIGN_OR_RETURN(std::string bytes, SerializeNpy(t));
  return WriteFileAtomically(path, bytes);
}

absl::StatusOr<NpzArrays> ReadNpz(const std::string& path) {
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  int err = 0;
  std::unique_ptr<zip_t, int (*)(zip_t*)> zip(zip_open(path.c_str(), ZIP_RDONLY, &err), zip_close);
  if (!zip) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return absl::DataLossError(absl::StrCat(path, ": not a readable .npz (zip) archive: ", why));
  }
  NpzArrays arrays;
  const zip_int64_t n = zip_get_num_entries(zip.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const std::string member = zip_get_name(zip.get(), i, 0);
    if (!absl::EndsWith(member, ".npy")) continue;
    ASSIGN_OR_RETURN(std::string bytes, ReadZipMember(zip.get(), i, path));
    ASSIGN_OR_RETURN(torch::Tensor t, ParseNpy(bytes, absl::StrCat(path, ":", member)));
    arrays[member.substr(0, member.size() - 4)] = t;
  }
  return arrays;
}

absl::Status WriteNpz(const std::string& path, const NpzArrays& arrays) {
  std::vector<std::string> payloads;  // must outlive zip_close
  for (const auto& [key, t] : arrays) {
    ASSIGN_OR_RETURN(std::string bytes, SerializeNpy(t));
    payloads.push_back(std::move(bytes));
  }
  const std::string tmp = path + ".tmp";
  int err = 0;
  zip_t* zip = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (zip == nullptr) return absl::PermissionDeniedError(absl::StrCat(tmp, ": cannot create"));
  size_t i = 0;
  for (const auto& [key, t] : arrays) {
    const std::string& data = payloads[i++];
    zip_source_t* src = zip_source_buffer(zip, data.data(), data.size(), 0);
    const zip_int64_t idx =
        src ? zip_file_add(zip, (key + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
    if (idx < 0) {
      if (src) zip_source_free(src);
      zip_discard(zip);
      return absl::InternalError(absl::StrCat(tmp, ": cannot add ", key));
    }
    zip_set_file_compression(zip, idx, ZIP_CM_STORE, 0);
  }
  if (zip_close(zip) != 0) {
    const std::string why = zip_strerror(zip);
    zip_discard(zip);
    return absl::DataLossError(absl::StrCat(tmp, ": write failed: ", why));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", tmp, " -> ", path));
  }
  return absl::OkStatus();
}

}  // namespace common::data
