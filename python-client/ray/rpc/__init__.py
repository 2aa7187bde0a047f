"""Protocol messages, generated from runtime-java/src/main/proto by `make` (grpc_tools.protoc).

The same .proto files generate the Java classes, so both sides always agree on the wire format.
"""
