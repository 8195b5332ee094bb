#include "common/data/npy.h"

#include <torch/torch.h>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::data {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// What numpy.save writes for np.array([[1, 2, 3], [4, 5, 6]], dtype='<f4'): a v1 header padded
// with spaces so that the data starts at byte 128.
std::string NumpyGolden(const std::string& dict_body, const std::string& data) {
  std::string dict = "{" + dict_body + "}";
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size()));
  out.push_back(0);
  return out + dict + data;
}

std::string FloatBytes(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(float));
}

TEST(ParseNpy, ReadsNumpyWrittenFile) {
  const std::string golden = NumpyGolden(
      "'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", FloatBytes({1, 2, 3, 4, 5, 6}));
  torch::Tensor t = ParseNpy(golden, "golden").value();
  EXPECT_TRUE(torch::equal(t, torch::arange(1, 7, torch::kFloat32).view({2, 3})));
  // Our writer produces exactly numpy's bytes.
  EXPECT_EQ(SerializeNpy(t).value(), golden);
}

TEST(ParseNpy, FortranOrderIsTransposedIntoCOrder) {
  const std::string f = NumpyGolden("'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), ",
                                    FloatBytes({1, 4, 2, 5, 3, 6}));
  EXPECT_TRUE(
      torch::equal(ParseNpy(f, "f").value(), torch::arange(1, 7, torch::kFloat32).view({2, 3})));
}

TEST(ParseNpy, ErrorsNameTheProblem) {
  const std::string ok =
      NumpyGolden("'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", FloatBytes({1, 2}));
  EXPECT_THAT(Message(ParseNpy(ok.substr(0, ok.size() - 1), "cut.npy").status()),
              HasSubstr("cut.npy: shape (2) of <f4 needs 8 data bytes, file has 7"));
  EXPECT_THAT(Message(ParseNpy("PK\x03\x04 not npy", "z.npy").status()), HasSubstr("bad magic"));
  const std::string be =
      NumpyGolden("'descr': '>f4', 'fortran_order': False, 'shape': (2,), ", FloatBytes({1, 2}));
  EXPECT_THAT(Message(ParseNpy(be, "be.npy").status()), HasSubstr("unsupported .npy dtype '>f4'"));
}

TEST(Npy, RoundTripsSupportedDtypesAndScalars) {
  const std::string dir = TestDir("npy");
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kInt32, torch::kUInt8,
                     torch::kInt8, torch::kBool}) {
    torch::Tensor t = torch::arange(12).remainder(5).to(dtype).view({3, 1, 4});
    ASSERT_TRUE(WriteNpy(dir + "/a.npy", t).ok());
    torch::Tensor back = ReadNpy(dir + "/a.npy").value();
    EXPECT_EQ(back.scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(back, t));
  }
  ASSERT_TRUE(WriteNpy(dir + "/s.npy", torch::tensor(2.5)).ok());
  EXPECT_EQ(ReadNpy(dir + "/s.npy").value().dim(), 0);
}

TEST(Npy, LargeHeaderUsesVersion2) {
  torch::Tensor t = torch::zeros(std::vector<int64_t>(22000, 1));
  std::string bytes = SerializeNpy(t).value();
  EXPECT_EQ(bytes[6], 2);
  EXPECT_EQ(ParseNpy(bytes, "v2").value().dim(), 22000);
}

TEST(Npz, RoundTripAndCorruptArchive) {
  const std::string dir = TestDir("npz");
  NpzArrays arrays = {{"labels", torch::tensor({0.0, 1.0, static_cast<double>(NAN)})},
                      {"compound_idx", torch::tensor({3, 1, 2}, torch::kInt64)}};
  ASSERT_TRUE(WriteNpz(dir + "/d.npz", arrays).ok());
  NpzArrays back = ReadNpz(dir + "/d.npz").value();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(torch::equal(back.at("compound_idx"), arrays.at("compound_idx")));
  EXPECT_TRUE(torch::isnan(back.at("labels")[2]).item<bool>());
  ASSERT_TRUE(WriteFileAtomically(dir + "/bad.npz", "this is not a zip archive").ok());
  EXPECT_THAT(Message(ReadNpz(dir + "/bad.npz").status()),
              HasSubstr("bad.npz: not a readable .npz (zip) archive"));
  EXPECT_EQ(ReadNpz(dir + "/none.npz").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace common::data
