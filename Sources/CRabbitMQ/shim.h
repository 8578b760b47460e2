#ifndef TASKER_CRABBITMQ_SHIM_H
#define TASKER_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
