"""MD5OfMessageBody and MD5OfMessageAttributes as SQS documents them ("Calculating the MD5 message digest
for message attributes", SQS Developer Guide), computed here independently of app/gateway/sqs/messages.py:

  for each attribute, names sorted: length of the name (4 bytes, big-endian) + the name (UTF-8),
  length of the data type + the data type, one transport byte (1 String/Number, 2 Binary),
  length of the value + the value (UTF-8 text, or the raw bytes); MD5 of all of it, in hex.
"""

import hashlib

from fastqueue.gateway.sqs.messages import Attribute, md5_of_attributes, md5_of_body


def _field(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def _documented(attributes: list[tuple[str, str, bytes, int]]) -> str:
    encoded = b""
    for name, data_type, value, transport in sorted(attributes, key=lambda a: a[0].encode()):
        encoded += _field(name.encode()) + _field(data_type.encode()) + bytes([transport]) + _field(value)
    return hashlib.md5(encoded).hexdigest()


def test_md5_of_body_is_the_md5_of_its_utf8_bytes() -> None:
    assert md5_of_body("") == "d41d8cd98f00b204e9800998ecf8427e"  # RFC 1321's test suite
    assert md5_of_body("abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert md5_of_body("message digest") == "f96b697d7cb7938d525a2f31aaf161d0"
    assert md5_of_body("é") == hashlib.md5(b"\xc3\xa9").hexdigest()


def test_md5_of_one_string_attribute_byte_by_byte() -> None:
    # name "a", type "String", value "x": every byte written out.
    encoded = b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x01x"
    assert md5_of_attributes({"a": Attribute("String", string_value="x")}) == hashlib.md5(encoded).hexdigest()


def test_md5_of_mixed_attributes_sorted_by_name() -> None:
    attributes = {
        "zeta": Attribute("String", string_value="last"),
        "count": Attribute("Number", string_value="-1.5e3"),
        "blob": Attribute("Binary", binary_value=bytes(range(256))),
        "unicode": Attribute("String.custom", string_value="ü 中 \U0001f600"),
        "Zeta": Attribute("String", string_value="upper case sorts first"),
    }
    expected = _documented(
        [
            ("zeta", "String", b"last", 1),
            ("count", "Number", b"-1.5e3", 1),
            ("blob", "Binary", bytes(range(256)), 2),
            ("unicode", "String.custom", "ü 中 \U0001f600".encode(), 1),
            ("Zeta", "String", b"upper case sorts first", 1),
        ]
    )
    assert md5_of_attributes(attributes) == expected
    # The order the attributes were given in does not count.
    assert md5_of_attributes(dict(reversed(list(attributes.items())))) == expected
