"""An independent reader of TensorBoard event files, for //common/train:tensorboard_test.

    python3 read_tfevents.py FILE

Checks both masked CRC-32Cs of every record (CRC computed here bit by bit, not by the C++
writer's Boost.CRC), decodes each Event with Python's protobuf from message descriptors declared
below from TensorFlow's public event.proto / summary.proto field numbers, and prints one JSON
object per line: {"step", "tag", "value"} for scalars, {"step", "tag", "histogram": {...}} and
{"step", "tag", "text"}. A bad CRC or a truncated record exits 1 with one line.
"""
import json
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def messages():
    file = descriptor_pb2.FileDescriptorProto(name="reader.proto", package="reader", syntax="proto3")

    def message(name, fields):
        m = file.message_type.add(name=name)
        for field_name, number, kind, type_name, repeated in fields:
            f = m.field.add(name=field_name, number=number, type=kind,
                            label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
            if type_name:
                f.type_name = ".reader." + type_name

    message("Event", [("wall_time", 1, F.TYPE_DOUBLE, None, False),
                      ("step", 2, F.TYPE_INT64, None, False),
                      ("file_version", 3, F.TYPE_STRING, None, False),
                      ("summary", 5, F.TYPE_MESSAGE, "Summary", False)])
    message("Summary", [("value", 1, F.TYPE_MESSAGE, "Value", True)])
    message("Value", [("tag", 1, F.TYPE_STRING, None, False),
                      ("simple_value", 2, F.TYPE_FLOAT, None, False),
                      ("histo", 5, F.TYPE_MESSAGE, "Histogram", False),
                      ("tensor", 8, F.TYPE_MESSAGE, "Tensor", False),
                      ("metadata", 9, F.TYPE_MESSAGE, "Metadata", False)])
    message("Metadata", [("plugin_data", 1, F.TYPE_MESSAGE, "PluginData", False)])
    message("PluginData", [("plugin_name", 1, F.TYPE_STRING, None, False)])
    message("Histogram", [("min", 1, F.TYPE_DOUBLE, None, False),
                          ("max", 2, F.TYPE_DOUBLE, None, False),
                          ("num", 3, F.TYPE_DOUBLE, None, False),
                          ("sum", 4, F.TYPE_DOUBLE, None, False),
                          ("sum_squares", 5, F.TYPE_DOUBLE, None, False),
                          ("bucket_limit", 6, F.TYPE_DOUBLE, None, True),
                          ("bucket", 7, F.TYPE_DOUBLE, None, True)])
    message("Tensor", [("dtype", 1, F.TYPE_INT32, None, False),
                       ("string_val", 8, F.TYPE_BYTES, None, True)])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    factory = message_factory.MessageFactory(pool)
    return factory.GetPrototype(pool.FindMessageTypeByName("reader.Event"))


def main(path):
    Event = messages()
    data = open(path, "rb").read()
    pos = 0
    first = True
    while pos < len(data):
        if len(data) - pos < 12:
            sys.exit(f"{path}: truncated record header at byte {pos}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if header_crc != masked(header):
            sys.exit(f"{path}: bad length CRC at byte {pos}")
        payload = data[pos + 12:pos + 12 + length]
        if len(payload) != length or len(data) < pos + 16 + length:
            sys.exit(f"{path}: truncated record at byte {pos}")
        (payload_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if payload_crc != masked(payload):
            sys.exit(f"{path}: bad data CRC at byte {pos}")
        pos += 16 + length
        event = Event()
        event.ParseFromString(payload)
        if first:
            if event.file_version != "brain.Event:2":
                sys.exit(f"{path}: the first event is not the file version")
            first = False
            continue
        for value in event.summary.value:
            out = {"step": event.step, "tag": value.tag}
            if value.HasField("histo"):
                h = value.histo
                out["histogram"] = {"min": h.min, "max": h.max, "num": h.num, "sum": h.sum,
                                    "bucket_limit": list(h.bucket_limit), "bucket": list(h.bucket)}
            elif value.HasField("tensor"):
                out["plugin"] = value.metadata.plugin_data.plugin_name
                out["text"] = value.tensor.string_val[0].decode()
            else:
                out["value"] = value.simple_value
            print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
