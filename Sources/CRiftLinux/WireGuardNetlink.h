/* Generic netlink plumbing shared by the kernel WireGuard calls (CRiftLinuxWireGuard.c reads a device,
 * CRiftLinuxWireGuardSet.c changes one): a socket with WireGuard's family resolved, attribute writing and reading,
 * and the wait for the kernel's acknowledgement. Private to CRiftLinux (not in include/). */
#ifndef CRIFT_LINUX_WIREGUARD_NETLINK_H
#define CRIFT_LINUX_WIREGUARD_NETLINK_H
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRL_HIDDEN __attribute__((visibility("hidden")))

enum { crl_wg_receive_size = 65536 };

/* A generic netlink socket, its request counter and its receive buffer (wiped before it is freed). */
typedef struct {
    int fd;
    uint32_t sequence;
    unsigned char *buffer;
} crl_wg_socket;

/* Opens a generic netlink socket (2 s receive timeout) and resolves WireGuard's family: the family id, or a negative
 * errno (-ENOENT: the module is not loaded; the socket is then closed). */
CRL_HIDDEN int crl_wg_open(crl_wg_socket *socket_);
CRL_HIDDEN void crl_wg_close(crl_wg_socket *socket_);
/* Receives one datagram of replies into the socket's buffer; its length, or a negative errno. */
CRL_HIDDEN ssize_t crl_wg_receive(crl_wg_socket *socket_);
/* Starts a request of `command` to `family` in `message` (the caller's buffer, zeroed here up to `capacity`). */
CRL_HIDDEN void crl_wg_start(crl_wg_socket *socket_, unsigned char *message, size_t capacity, uint16_t family,
                             uint8_t command, uint8_t version, uint16_t flags);
/* Appends attribute `type` with `length` bytes of `data`; 0, or -EMSGSIZE when `capacity` is too small. */
CRL_HIDDEN int crl_wg_put(unsigned char *message, size_t capacity, uint16_t type, const void *data, size_t length);
/* Opens attribute `type` nesting the attributes put after it, up to crl_wg_end_nest. Its offset, or a negative errno. */
CRL_HIDDEN long crl_wg_start_nest(unsigned char *message, size_t capacity, uint16_t type);
CRL_HIDDEN void crl_wg_end_nest(unsigned char *message, long offset);
/* Sends the request in `message` to the kernel; 0, or a negative errno. */
CRL_HIDDEN int crl_wg_send(crl_wg_socket *socket_, const unsigned char *message);
/* Waits for the kernel's acknowledgement of the last request (sent with NLM_F_ACK): 0, or the negative errno it gave. */
CRL_HIDDEN int crl_wg_await_ack(crl_wg_socket *socket_);

#define CRL_FOR_EACH_ATTRIBUTE(attribute, start, length)                                                        \
    for (struct nlattr *attribute = (struct nlattr *)(start);                                                    \
         (size_t)((unsigned char *)attribute - (unsigned char *)(start)) + NLA_HDRLEN <= (size_t)(length) &&    \
         attribute->nla_len >= NLA_HDRLEN &&                                                                     \
         (size_t)((unsigned char *)attribute - (unsigned char *)(start)) + attribute->nla_len <= (size_t)(length); \
         attribute = (struct nlattr *)((unsigned char *)attribute + NLA_ALIGN(attribute->nla_len)))

#define CRL_ATTRIBUTE_DATA(attribute) ((unsigned char *)(attribute) + NLA_HDRLEN)
#define CRL_ATTRIBUTE_LENGTH(attribute) ((size_t)(attribute)->nla_len - NLA_HDRLEN)
#define CRL_ATTRIBUTE_TYPE(attribute) ((attribute)->nla_type & NLA_TYPE_MASK)

#endif
