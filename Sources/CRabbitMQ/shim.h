#ifndef TASKER_CRABBITMQ_SHIM_H
#define TASKER_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/* Method ids: cast macros that Swift does not import. */
static const amqp_method_number_t TASKER_AMQP_CONNECTION_CLOSE_METHOD = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t TASKER_AMQP_CONNECTION_CLOSE_OK_METHOD = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t TASKER_AMQP_CONNECTION_BLOCKED_METHOD = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t TASKER_AMQP_CONNECTION_UNBLOCKED_METHOD = AMQP_CONNECTION_UNBLOCKED_METHOD;
static const amqp_method_number_t TASKER_AMQP_CHANNEL_CLOSE_METHOD = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t TASKER_AMQP_CHANNEL_CLOSE_OK_METHOD = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t TASKER_AMQP_BASIC_ACK_METHOD = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t TASKER_AMQP_BASIC_NACK_METHOD = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t TASKER_AMQP_BASIC_RETURN_METHOD = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t TASKER_AMQP_BASIC_DELIVER_METHOD = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t TASKER_AMQP_BASIC_CANCEL_METHOD = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t TASKER_AMQP_BASIC_CANCEL_OK_METHOD = AMQP_BASIC_CANCEL_OK_METHOD;

/* Property flags. */
static const amqp_flags_t TASKER_AMQP_BASIC_CONTENT_TYPE_FLAG = AMQP_BASIC_CONTENT_TYPE_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_CONTENT_ENCODING_FLAG = AMQP_BASIC_CONTENT_ENCODING_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_HEADERS_FLAG = AMQP_BASIC_HEADERS_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_DELIVERY_MODE_FLAG = AMQP_BASIC_DELIVERY_MODE_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_PRIORITY_FLAG = AMQP_BASIC_PRIORITY_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_CORRELATION_ID_FLAG = AMQP_BASIC_CORRELATION_ID_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_REPLY_TO_FLAG = AMQP_BASIC_REPLY_TO_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_EXPIRATION_FLAG = AMQP_BASIC_EXPIRATION_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_MESSAGE_ID_FLAG = AMQP_BASIC_MESSAGE_ID_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_TIMESTAMP_FLAG = AMQP_BASIC_TIMESTAMP_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_TYPE_FLAG = AMQP_BASIC_TYPE_FLAG;
static const amqp_flags_t TASKER_AMQP_BASIC_APP_ID_FLAG = AMQP_BASIC_APP_ID_FLAG;

/* amqp_login_with_properties is variadic: wrap the PLAIN form. */
static inline amqp_rpc_reply_t tasker_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                       int channel_max, int frame_max, int heartbeat,
                                                       const amqp_table_t *properties, const char *user,
                                                       const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

/* Field value constructors (unions are awkward from Swift). */
static inline amqp_field_value_t tasker_amqp_field_utf8(amqp_bytes_t bytes) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_UTF8; v.value.bytes = bytes; return v;
}
static inline amqp_field_value_t tasker_amqp_field_i64(int64_t i) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_I64; v.value.i64 = i; return v;
}
static inline amqp_field_value_t tasker_amqp_field_bool(int b) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_BOOLEAN; v.value.boolean = b ? 1 : 0; return v;
}
static inline amqp_field_value_t tasker_amqp_field_f64(double d) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_F64; v.value.f64 = d; return v;
}
static inline amqp_field_value_t tasker_amqp_field_timestamp(uint64_t t) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_TIMESTAMP; v.value.u64 = t; return v;
}
static inline amqp_field_value_t tasker_amqp_field_table(amqp_table_t t) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_TABLE; v.value.table = t; return v;
}
static inline amqp_field_value_t tasker_amqp_field_array(amqp_array_t a) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_ARRAY; v.value.array = a; return v;
}
static inline amqp_field_value_t tasker_amqp_field_void(void) {
    amqp_field_value_t v; v.kind = AMQP_FIELD_KIND_VOID; return v;
}

/* Send channel.close-ok / connection.close-ok in reply to a broker-initiated close. */
static inline int tasker_amqp_send_channel_close_ok(amqp_connection_state_t state, amqp_channel_t channel) {
    amqp_channel_close_ok_t ok; ok.dummy = 0;
    return amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
}
static inline int tasker_amqp_send_connection_close_ok(amqp_connection_state_t state) {
    amqp_connection_close_ok_t ok; ok.dummy = 0;
    return amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
}

/* TCP_CORK on the connection's socket: while set, the kernel sends only full segments, so a
   run of small frames (a batch of publishes, acks) leaves as few segments instead of one each;
   clearing it sends what is held at once. Returns setsockopt's result. */
static inline int tasker_set_cork(int fd, int on) {
    return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}
#endif
