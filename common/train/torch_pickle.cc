#include "common/train/torch_pickle.h"

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"

namespace common::train {
namespace {

// A Python object as far as state dicts need them.
enum class Kind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTuple,
  kList,
  kDict,
  kGlobal,   // a class or function named by GLOBAL: s = "module.name"
  kStorage,  // tensor = the storage's elements, flat
  kTensor,
  kOpaque,  // an instance of a class we do not rebuild: s = its class
};

struct Object;
using Ref = std::shared_ptr<Object>;

struct Object {
  Kind kind = Kind::kNone;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<Ref> items;  // tuple, list; a dict's keys and values alternating
  torch::Tensor tensor;
};

Ref Make(Kind kind) {
  auto o = std::make_shared<Object>();
  o->kind = kind;
  return o;
}

Ref MakeInt(int64_t v) {
  Ref o = Make(Kind::kInt);
  o->i = v;
  return o;
}

Ref MakeString(Kind kind, std::string s) {
  Ref o = Make(kind);
  o->s = std::move(s);
  return o;
}

std::string TypeName(const Object& o) {
  switch (o.kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kBytes:
      return "bytes";
    case Kind::kTuple:
      return "tuple";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kGlobal:
      return absl::StrCat("reference to ", o.s);
    case Kind::kStorage:
      return "storage";
    case Kind::kTensor:
      return "Tensor";
    case Kind::kOpaque:
      return o.s;
  }
  return "?";
}

absl::StatusOr<torch::ScalarType> StorageDtype(const std::string& name) {
  static const auto* const kTypes = new std::unordered_map<std::string, torch::ScalarType>{
      {"FloatStorage", torch::kFloat},
      {"DoubleStorage", torch::kDouble},
      {"HalfStorage", torch::kHalf},
      {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kLong},
      {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort},
      {"CharStorage", torch::kChar},
      {"ByteStorage", torch::kByte},
      {"BoolStorage", torch::kBool},
      {"ComplexFloatStorage", torch::kComplexFloat},
      {"ComplexDoubleStorage", torch::kComplexDouble},
  };
  // "torch.FloatStorage"; tensors saved on a GPU by old versions name "torch.cuda.FloatStorage".
  for (const char* module : {"torch.", "torch.cuda."}) {
    if (name.rfind(module, 0) == 0) {
      const auto it = kTypes->find(name.substr(std::strlen(module)));
      if (it != kTypes->end()) return it->second;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported storage type ", name));
}

// Gives the elements of the storage `key` as a flat tensor of `numel` elements of `dtype`.
using StorageLoader = std::function<absl::StatusOr<torch::Tensor>(
    const std::string& key, torch::ScalarType dtype, int64_t numel)>;

// Runs one pickle (from `pos` of `bytes` to its STOP) on a stack machine that knows the opcodes
// of protocols 2-5 that state dicts use. Errors are InvalidArgument without the file name.
class Machine {
 public:
  Machine(const std::string& bytes, size_t pos, StorageLoader load_storage)
      : bytes_(bytes), pos_(pos), load_storage_(std::move(load_storage)) {}

  absl::StatusOr<Ref> Run();
  size_t pos() const { return pos_; }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat("pickle byte ", op_pos_, ": ", what));
  }
  absl::StatusOr<std::string> Read(uint64_t n) {
    if (n > bytes_.size() - pos_) return Error("truncated");
    std::string out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // Little-endian unsigned integer of n <= 8 bytes.
  absl::StatusOr<uint64_t> ReadUnsigned(int n) {
    ASSIGN_OR_RETURN(const std::string b, Read(n));
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(b[k]);
    return v;
  }
  absl::StatusOr<std::string> ReadLine() {
    const size_t end = bytes_.find('\n', pos_);
    if (end == std::string::npos) return Error("truncated");
    std::string out = bytes_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  // Two's-complement little-endian integer of n bytes (LONG1 / LONG4).
  absl::StatusOr<Ref> ReadLong(uint64_t n) {
    if (n > 8) return Error(absl::StrCat("integer of ", n, " bytes is too large"));
    if (n == 0) return MakeInt(0);
    ASSIGN_OR_RETURN(uint64_t v, ReadUnsigned(static_cast<int>(n)));
    if (n < 8 && (v >> (8 * n - 1)) != 0) v |= ~uint64_t{0} << (8 * n);  // sign extension
    return MakeInt(static_cast<int64_t>(v));
  }
  absl::StatusOr<Ref> Pop() {
    if (stack_.empty() || (!marks_.empty() && marks_.back() == stack_.size())) {
      return Error("stack underflow");
    }
    Ref top = std::move(stack_.back());
    stack_.pop_back();
    return top;
  }
  absl::StatusOr<Ref> Top(Kind kind) {
    if (stack_.empty() || stack_.back()->kind != kind) {
      return Error(absl::StrCat("expected a ", TypeName(Object{kind}), " on the stack"));
    }
    return stack_.back();
  }
  // The objects pushed since the last MARK, which is removed.
  absl::StatusOr<std::vector<Ref>> PopMark() {
    if (marks_.empty()) return Error("no MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Ref> items(std::make_move_iterator(stack_.begin() + mark),
                           std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  absl::Status Put(uint64_t index) {
    if (stack_.empty()) return Error("memo put on an empty stack");
    memo_[index] = stack_.back();
    return absl::OkStatus();
  }
  absl::Status Get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) return Error(absl::StrCat("memo ", index, " not set"));
    stack_.push_back(it->second);
    return absl::OkStatus();
  }
  absl::Status SetItems(Object& dict, std::vector<Ref> pairs) {
    if (pairs.size() % 2 != 0) return Error("odd number of dict items");
    for (Ref& item : pairs) dict.items.push_back(std::move(item));
    return absl::OkStatus();
  }
  absl::StatusOr<Ref> Call(const Object& callable, const Object& args);
  absl::StatusOr<Ref> RebuildTensor(const std::vector<Ref>& args);
  absl::StatusOr<Ref> PersistentLoad(const Object& pid);

  const std::string& bytes_;
  size_t pos_;
  size_t op_pos_ = 0;
  StorageLoader load_storage_;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Ref> memo_;
  std::unordered_map<std::string, torch::Tensor> storages_;
};

absl::StatusOr<Ref> Machine::Run() {
  while (true) {
    op_pos_ = pos_;
    ASSIGN_OR_RETURN(const uint64_t op, ReadUnsigned(1));
    switch (op) {
      case 0x80: {  // PROTO
        ASSIGN_OR_RETURN(const uint64_t version, ReadUnsigned(1));
        if (version > 5) return Error(absl::StrCat("pickle protocol ", version));
        break;
      }
      case 0x95:  // FRAME: a length we do not need
        RETURN_IF_ERROR(Read(8).status());
        break;
      case '.':  // STOP
        if (stack_.size() != 1 || !marks_.empty()) return Error("STOP with an unbalanced stack");
        return stack_.back();
      case '(':  // MARK
        marks_.push_back(stack_.size());
        break;
      case '0':  // POP
        RETURN_IF_ERROR(Pop().status());
        break;
      case '1':  // POP_MARK
        RETURN_IF_ERROR(PopMark().status());
        break;
      case '2': {  // DUP
        ASSIGN_OR_RETURN(Ref top, Pop());
        stack_.push_back(top);
        stack_.push_back(top);
        break;
      }
      case 'N':
        stack_.push_back(Make(Kind::kNone));
        break;
      case 0x88:  // NEWTRUE
      case 0x89: {
        Ref b = Make(Kind::kBool);
        b->i = op == 0x88;
        stack_.push_back(b);
        break;
      }
      case 'J': {  // BININT
        ASSIGN_OR_RETURN(const uint64_t v, ReadUnsigned(4));
        stack_.push_back(MakeInt(static_cast<int32_t>(static_cast<uint32_t>(v))));
        break;
      }
      case 'K':  // BININT1
      case 'M': {
        ASSIGN_OR_RETURN(const uint64_t v, ReadUnsigned(op == 'K' ? 1 : 2));
        stack_.push_back(MakeInt(static_cast<int64_t>(v)));
        break;
      }
      case 0x8a:  // LONG1
      case 0x8b: {
        ASSIGN_OR_RETURN(const uint64_t n, ReadUnsigned(op == 0x8a ? 1 : 4));
        ASSIGN_OR_RETURN(Ref v, ReadLong(n));
        stack_.push_back(v);
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        ASSIGN_OR_RETURN(const std::string b, Read(8));
        uint64_t bits = 0;
        for (char c : b) bits = (bits << 8) | static_cast<uint8_t>(c);
        Ref f = Make(Kind::kFloat);
        std::memcpy(&f->f, &bits, sizeof(double));
        stack_.push_back(f);
        break;
      }
      case 'X':     // BINUNICODE
      case 0x8c:    // SHORT_BINUNICODE
      case 0x8d:    // BINUNICODE8
      case 'T':     // BINSTRING (Python 2 str)
      case 'U':     // SHORT_BINSTRING
      case 'B':     // BINBYTES
      case 'C':     // SHORT_BINBYTES
      case 0x8e: {  // BINBYTES8
        const int width = (op == 0x8c || op == 'U' || op == 'C') ? 1
                          : (op == 0x8d || op == 0x8e)           ? 8
                                                                 : 4;
        ASSIGN_OR_RETURN(const uint64_t n, ReadUnsigned(width));
        ASSIGN_OR_RETURN(std::string s, Read(n));
        const bool bytes = op == 'B' || op == 'C' || op == 0x8e;
        stack_.push_back(MakeString(bytes ? Kind::kBytes : Kind::kString, std::move(s)));
        break;
      }
      case ')':
        stack_.push_back(Make(Kind::kTuple));
        break;
      case 't': {  // TUPLE
        Ref t = Make(Kind::kTuple);
        ASSIGN_OR_RETURN(t->items, PopMark());
        stack_.push_back(t);
        break;
      }
      case 0x85:  // TUPLE1..3
      case 0x86:
      case 0x87: {
        Ref t = Make(Kind::kTuple);
        t->items.resize(op - 0x84);
        for (size_t k = t->items.size(); k-- > 0;) {
          ASSIGN_OR_RETURN(t->items[k], Pop());
        }
        stack_.push_back(t);
        break;
      }
      case ']':
        stack_.push_back(Make(Kind::kList));
        break;
      case 'l': {  // LIST
        Ref l = Make(Kind::kList);
        ASSIGN_OR_RETURN(l->items, PopMark());
        stack_.push_back(l);
        break;
      }
      case 'a': {  // APPEND
        ASSIGN_OR_RETURN(Ref v, Pop());
        ASSIGN_OR_RETURN(Ref list, Top(Kind::kList));
        list->items.push_back(std::move(v));
        break;
      }
      case 'e': {  // APPENDS
        ASSIGN_OR_RETURN(std::vector<Ref> items, PopMark());
        ASSIGN_OR_RETURN(Ref list, Top(Kind::kList));
        for (Ref& item : items) list->items.push_back(std::move(item));
        break;
      }
      case '}':
        stack_.push_back(Make(Kind::kDict));
        break;
      case 'd': {  // DICT
        ASSIGN_OR_RETURN(std::vector<Ref> items, PopMark());
        Ref d = Make(Kind::kDict);
        RETURN_IF_ERROR(SetItems(*d, std::move(items)));
        stack_.push_back(d);
        break;
      }
      case 's': {  // SETITEM
        ASSIGN_OR_RETURN(Ref value, Pop());
        ASSIGN_OR_RETURN(Ref key, Pop());
        ASSIGN_OR_RETURN(Ref dict, Top(Kind::kDict));
        RETURN_IF_ERROR(SetItems(*dict, {std::move(key), std::move(value)}));
        break;
      }
      case 'u': {  // SETITEMS
        ASSIGN_OR_RETURN(std::vector<Ref> items, PopMark());
        ASSIGN_OR_RETURN(Ref dict, Top(Kind::kDict));
        RETURN_IF_ERROR(SetItems(*dict, std::move(items)));
        break;
      }
      case 'c': {  // GLOBAL module\nname\n
        ASSIGN_OR_RETURN(const std::string module, ReadLine());
        ASSIGN_OR_RETURN(const std::string name, ReadLine());
        stack_.push_back(MakeString(Kind::kGlobal, absl::StrCat(module, ".", name)));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        ASSIGN_OR_RETURN(Ref name, Pop());
        ASSIGN_OR_RETURN(Ref module, Pop());
        if (name->kind != Kind::kString || module->kind != Kind::kString) {
          return Error("STACK_GLOBAL needs two strings");
        }
        stack_.push_back(MakeString(Kind::kGlobal, absl::StrCat(module->s, ".", name->s)));
        break;
      }
      case 'q':  // BINPUT
      case 'r': {
        ASSIGN_OR_RETURN(const uint64_t index, ReadUnsigned(op == 'q' ? 1 : 4));
        RETURN_IF_ERROR(Put(index));
        break;
      }
      case 0x94:  // MEMOIZE
        RETURN_IF_ERROR(Put(memo_.size()));
        break;
      case 'h':  // BINGET
      case 'j': {
        ASSIGN_OR_RETURN(const uint64_t index, ReadUnsigned(op == 'h' ? 1 : 4));
        RETURN_IF_ERROR(Get(index));
        break;
      }
      case 'R': {  // REDUCE
        ASSIGN_OR_RETURN(Ref args, Pop());
        ASSIGN_OR_RETURN(Ref callable, Pop());
        ASSIGN_OR_RETURN(Ref result, Call(*callable, *args));
        stack_.push_back(result);
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args), an instance we keep opaque
        ASSIGN_OR_RETURN(Ref args, Pop());
        ASSIGN_OR_RETURN(Ref cls, Pop());
        stack_.push_back(MakeString(Kind::kOpaque, cls->s.empty() ? TypeName(*cls) : cls->s));
        break;
      }
      case 'b':  // BUILD: sets an object's state (an OrderedDict's _metadata): not needed
        RETURN_IF_ERROR(Pop().status());
        if (stack_.empty()) return Error("BUILD on an empty stack");
        break;
      case 'Q': {  // BINPERSID
        ASSIGN_OR_RETURN(Ref pid, Pop());
        ASSIGN_OR_RETURN(Ref storage, PersistentLoad(*pid));
        stack_.push_back(storage);
        break;
      }
      default:
        return Error(absl::StrFormat("unsupported pickle opcode 0x%02x", op));
    }
  }
}

absl::StatusOr<Ref> Machine::Call(const Object& callable, const Object& args) {
  if (callable.kind != Kind::kGlobal || args.kind != Kind::kTuple) {
    return Error("REDUCE needs a global and a tuple");
  }
  const std::string& name = callable.s;
  if (name == "collections.OrderedDict" && args.items.empty()) return Make(Kind::kDict);
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
    return RebuildTensor(args.items);
  }
  if (name == "torch._utils._rebuild_parameter" ||
      name == "torch._utils._rebuild_parameter_with_state" ||
      name == "torch.jit._pickle.restore_type_tag") {
    if (args.items.empty()) return Error(absl::StrCat(name, " without arguments"));
    return args.items[0];
  }
  return MakeString(Kind::kOpaque, name);
}

absl::StatusOr<std::vector<int64_t>> Ints(const Object& tuple) {
  if (tuple.kind != Kind::kTuple) {
    return absl::InvalidArgumentError(absl::StrCat("expected a tuple, got ", TypeName(tuple)));
  }
  std::vector<int64_t> out;
  for (const Ref& item : tuple.items) {
    if (item->kind != Kind::kInt || item->i < 0) {
      return absl::InvalidArgumentError("sizes and strides must be non-negative ints");
    }
    out.push_back(item->i);
  }
  return out;
}

absl::StatusOr<Ref> Machine::RebuildTensor(const std::vector<Ref>& args) {
  if (args.size() < 4 || args[0]->kind != Kind::kStorage || args[1]->kind != Kind::kInt) {
    return Error("_rebuild_tensor needs (storage, offset, size, stride, ...)");
  }
  const torch::Tensor& storage = args[0]->tensor;
  const int64_t offset = args[1]->i;
  absl::StatusOr<std::vector<int64_t>> size = Ints(*args[2]), stride = Ints(*args[3]);
  if (!size.ok()) return Error(std::string(size.status().message()));
  if (!stride.ok()) return Error(std::string(stride.status().message()));
  if (size->size() != stride->size()) return Error("sizes and strides differ in length");
  // The last element the view reaches must lie inside the storage.
  bool empty = false;
  int64_t last = offset;
  for (size_t d = 0; d < size->size(); ++d) {
    int64_t reach = 0;
    if ((*size)[d] == 0) empty = true;
    if (__builtin_mul_overflow(std::max<int64_t>((*size)[d] - 1, 0), (*stride)[d], &reach) ||
        __builtin_add_overflow(last, reach, &last)) {
      return Error("tensor extent overflows");
    }
  }
  if (offset < 0 || (!empty && last >= storage.numel())) {
    return Error(absl::StrCat("tensor of size [", absl::StrJoin(*size, ", "), "] at offset ",
                              offset, " reaches past its storage of ", storage.numel(),
                              " elements"));
  }
  Ref t = Make(Kind::kTensor);
  t->tensor = storage.as_strided(*size, *stride, offset);
  return t;
}

absl::StatusOr<Ref> Machine::PersistentLoad(const Object& pid) {
  // ('storage', torch.FloatStorage, key, location, numel[, legacy view (key, offset, numel)])
  const std::vector<Ref>& f = pid.items;
  if (pid.kind != Kind::kTuple || f.size() < 5 || f[0]->kind != Kind::kString ||
      f[0]->s != "storage" || f[1]->kind != Kind::kGlobal || f[2]->kind != Kind::kString ||
      f[4]->kind != Kind::kInt || f[4]->i < 0) {
    return Error("persistent id is not ('storage', type, key, location, numel)");
  }
  auto dtype = StorageDtype(f[1]->s);
  if (!dtype.ok()) return Error(std::string(dtype.status().message()));
  const std::string& key = f[2]->s;
  auto it = storages_.find(key);
  if (it == storages_.end()) {
    ASSIGN_OR_RETURN(torch::Tensor elements, load_storage_(key, *dtype, f[4]->i));
    it = storages_.emplace(key, std::move(elements)).first;
  }
  if (it->second.scalar_type() != *dtype || it->second.numel() != f[4]->i) {
    return Error(absl::StrCat("storage ", key, " is named with two types or sizes"));
  }
  Ref storage = Make(Kind::kStorage);
  storage->tensor = it->second;
  if (f.size() > 5 && f[5]->kind == Kind::kTuple) {  // a view into the root storage
    const std::vector<Ref>& v = f[5]->items;
    if (v.size() != 3 || v[1]->kind != Kind::kInt || v[2]->kind != Kind::kInt || v[1]->i < 0 ||
        v[2]->i < 0 || v[1]->i > it->second.numel() - v[2]->i) {
      return Error(absl::StrCat("bad view of storage ", key));
    }
    storage->tensor = it->second.narrow(0, v[1]->i, v[2]->i);
  }
  return storage;
}

// The top-level object as a state dict: str -> Tensor.
absl::StatusOr<TensorMap> ToTensorMap(const Object& top) {
  if (top.kind != Kind::kDict) {
    return absl::InvalidArgumentError(absl::StrCat(
        "holds a ", TypeName(top), ", not a state dict (str -> Tensor): save model.state_dict()"));
  }
  TensorMap out;
  for (size_t k = 0; k + 1 < top.items.size(); k += 2) {
    const Object& key = *top.items[k];
    const Object& value = *top.items[k + 1];
    if (key.kind != Kind::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("has a key of type ", TypeName(key), ", not a state dict (str -> Tensor)"));
    }
    if (value.kind != Kind::kTensor) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key.s, "' holds a ", TypeName(value),
                       ", not a Tensor: expected a state dict (str -> Tensor)"));
    }
    out[key.s] = value.tensor;
  }
  return out;
}

// Python's magic number of the legacy format, pickled: PROTO 2, LONG1 of 10 bytes, STOP.
constexpr char kLegacyMagic[] = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";
constexpr size_t kLegacyMagicSize = sizeof(kLegacyMagic) - 1;

absl::StatusOr<TensorMap> ReadZip(const std::string& bytes) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(
        std::make_shared<caffe2::serialize::MemoryReadAdapter>(bytes.data(), bytes.size()));
    at::DataPtr pickle_data;
    size_t pickle_size = 0;
    std::tie(pickle_data, pickle_size) = reader.getRecord("data.pkl");
    const std::string pickle(static_cast<const char*>(pickle_data.get()), pickle_size);
    StorageLoader load = [&](const std::string& key, torch::ScalarType dtype,
                             int64_t numel) -> absl::StatusOr<torch::Tensor> {
      const std::string record = "data/" + key;
      if (!reader.hasRecord(record)) {
        return absl::InvalidArgumentError(absl::StrCat("no record ", record));
      }
      at::DataPtr data;
      size_t size = 0;
      std::tie(data, size) = reader.getRecord(record);
      torch::Tensor elements = torch::empty({numel}, dtype);
      if (size != static_cast<size_t>(elements.nbytes())) {
        return absl::InvalidArgumentError(
            absl::StrCat(record, " holds ", size, " bytes, not ", elements.nbytes()));
      }
      std::memcpy(elements.data_ptr(), data.get(), size);
      return elements;
    };
    Machine machine(pickle, 0, load);
    ASSIGN_OR_RETURN(Ref top, machine.Run());
    return ToTensorMap(*top);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(e.what_without_backtrace());
  }
}

absl::StatusOr<TensorMap> ReadLegacy(const std::string& bytes) {
  std::unordered_map<std::string, torch::Tensor> storages;
  StorageLoader allocate = [&](const std::string& key, torch::ScalarType dtype,
                               int64_t numel) -> absl::StatusOr<torch::Tensor> {
    torch::Tensor elements = torch::empty({numel}, dtype);
    storages[key] = elements;
    return elements;
  };
  size_t pos = kLegacyMagicSize;
  Ref protocol, sys_info, top, keys;
  for (Ref* object : {&protocol, &sys_info, &top, &keys}) {
    Machine machine(bytes, pos, allocate);
    ASSIGN_OR_RETURN(*object, machine.Run());
    pos = machine.pos();
  }
  if (protocol->kind != Kind::kInt || protocol->i != 1001) {
    return absl::InvalidArgumentError("unsupported legacy protocol version");
  }
  for (size_t k = 0; sys_info->kind == Kind::kDict && k + 1 < sys_info->items.size(); k += 2) {
    if (sys_info->items[k]->s == "little_endian" && sys_info->items[k + 1]->i == 0) {
      return absl::InvalidArgumentError("saved on a big-endian machine");
    }
  }
  if (keys->kind != Kind::kList) return absl::InvalidArgumentError("no list of storage keys");
  // Each storage: its element count (int64, little-endian), then its bytes.
  for (const Ref& key : keys->items) {
    const auto it = storages.find(key->s);
    if (key->kind != Kind::kString || it == storages.end()) {
      return absl::InvalidArgumentError("storage key list does not match the pickle");
    }
    if (bytes.size() - pos < 8) return absl::InvalidArgumentError("truncated storage data");
    int64_t numel = 0;
    std::memcpy(&numel, bytes.data() + pos, 8);
    pos += 8;
    torch::Tensor& elements = it->second;
    if (numel != elements.numel()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "storage ", key->s, " has ", numel, " elements, the pickle says ", elements.numel()));
    }
    const size_t n = static_cast<size_t>(elements.nbytes());
    if (bytes.size() - pos < n) return absl::InvalidArgumentError("truncated storage data");
    std::memcpy(elements.data_ptr(), bytes.data() + pos, n);
    pos += n;
    storages.erase(it);
  }
  if (!storages.empty()) return absl::InvalidArgumentError("storages missing from the file");
  return ToTensorMap(*top);
}

}  // namespace

absl::StatusOr<TensorMap> ReadTorchSave(const std::string& source, const std::string& bytes) {
  absl::StatusOr<TensorMap> out;
  if (bytes.rfind("PK\x03\x04", 0) == 0) {
    out = ReadZip(bytes);
  } else if (bytes.compare(0, kLegacyMagicSize, kLegacyMagic) == 0) {
    out = ReadLegacy(bytes);
  } else {
    return absl::DataLossError(absl::StrCat(
        source, ": not a torch.save file (neither its zip archive nor its legacy format)"));
  }
  if (!out.ok()) {
    std::string message(out.status().message());
    std::replace(message.begin(), message.end(), '\n', ' ');
    return absl::DataLossError(absl::StrCat(source, ": ", message));
  }
  return out;
}

}  // namespace common::train
