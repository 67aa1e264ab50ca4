// File: tracebridge/interceptors/message_size.h
//
// The size of a message a gRPC call received or sends, for the request and
// response byte counters. gRPC 1.51's interceptors never see a received
// message's bytes: at POST_RECV_MESSAGE the buffer is already deserialised
// into the call's message object and released, and `GetRecvMessage()`
// returns that object as an untyped pointer. A message to be sent is still
// an object at PRE_SEND_MESSAGE (`GetSendMessage()`); asking for its bytes
// (`GetSerializedSendMessage()`) would serialise it there, inside the
// interceptor, instead of where gRPC does it anyway, so the interceptors
// measure it the same way and fall back to the buffer only when the
// message was serialised already or is of another type.
//
// What is counted: for a message of a generated protobuf type, its
// serialised size (`ByteSizeLong()`): the uncompressed protobuf encoding,
// without gRPC's 5-byte message header, which is exactly the length of the
// buffer gRPC serialises it into, and equals the bytes received whenever
// the sender encoded canonically (every protobuf library does; only
// non-canonical encodings such as unpacked repeated fields or padded
// varints can differ). A received message of any other type is not
// measured: calls through generic stubs or services (`grpc::ByteBuffer`) and
// custom serialisers; their messages are still counted. A sent message of
// another type is measured by its serialised buffer.
//
// How the type is known: the method's request type (received on the server
// side) or response type (received on the client side) is looked up by name
// in protobuf's generated descriptor pool, once per method and side, and
// cached; an object is measured only when its vtable pointer is that
// generated class's, so an object of any other type (a `ByteBuffer` for a
// method that is also compiled in) is never mistaken for it. This needs a
// message type at least a pointer in size, as every gRPC message type is.
//
// Cost: per message, one compare and `ByteSizeLong()` (a walk over the
// message's fields, no allocation, no lock). Resolving a method's types
// takes one hash of the method name and a probe of a lock-free table (the
// interceptors do it once per method, interceptors/method_table.h); the
// first resolution of each method takes protobuf's descriptor-pool lock and
// allocates one table entry (up to 512 methods; beyond that the lookup is
// repeated).
//
// Example (what the interceptors do):
//
//   const google::protobuf::Message* type =
//       tracebridge::internal::ReceivedMessageType(info->method(), Side::kServer);
//   ...  // at POST_RECV_MESSAGE:
//   series->AddRequestBytes(
//       tracebridge::internal::MessageBytes(methods->GetRecvMessage(), type));

#ifndef TRACEBRIDGE_INTERCEPTORS_MESSAGE_SIZE_H_
#define TRACEBRIDGE_INTERCEPTORS_MESSAGE_SIZE_H_

#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {
namespace internal {

// The generated protobuf type of the messages `full_method`
// ("/pkg.Service/Method") receives on `side`: its request type on the
// server, its response type on the client. Null when the method or its
// types are not compiled-in generated protobuf types.
const google::protobuf::Message* ReceivedMessageType(absl::string_view full_method,
                                                     Side side) noexcept;

// The serialised size of `message` (what `GetRecvMessage()` or
// `GetSendMessage()` returned) when it is an object of `type`'s class; -1
// otherwise (also for null arguments).
int64_t MessageSize(const void* message, const google::protobuf::Message* type) noexcept;

// As above, with 0 for a message of unknown size.
inline size_t MessageBytes(const void* message, const google::protobuf::Message* type) noexcept {
  const int64_t size = MessageSize(message, type);
  return size > 0 ? static_cast<size_t>(size) : 0;
}

}  // namespace internal
}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_MESSAGE_SIZE_H_
