/* SPDX-License-Identifier: BSD-3-Clause */
/* Private state of the tcp transport, shared by tcp.c (data path, ops) and
 * tcp_conn.c (interface choice, socket options, connection setup). Nothing
 * outside transports/tcp*.c includes it. */
#ifndef RB_TRANSPORTS_TCP_H
#define RB_TRANSPORTS_TCP_H

#include <net/if.h>
#include <netinet/in.h>

#include "transports/transport.h"

extern const struct rb_tp_ops rb_tcp_ops;

#define TCP_MAX_STREAMS 16
#define TCP_MAGIC 0x52425443u		/* "RBTC" */
#define TCP_SOCKBUF_BYTES (4 << 20)	/* SO_{SND,RCV}BUF request */
#define TCP_STRIPE_MIN_BYTES (256 << 10) /* smaller messages use one stream */
#define TCP_STRIPE_ALIGN 4096
#define TCP_MAX_IOV 64
#define TCP_SPIN_NS 1000000		/* poll without sleeping this long */
#define TCP_SPIN_SHARED_NS 50000	/* ... when ranks outnumber CPUs */
#define TCP_RETRY_MIN_MS 20
#define TCP_RETRY_MAX_MS 500

/* The tcp options (--net-if, --tcp-streams, --tcp-port), set by its
 * parse_opt before any transport is opened. */
struct tcp_cfg {
	const char *net_if;	/* IF[,IF...]: entry (local rank mod count) */
	int streams;		/* striped connections per peer */
	int port0;		/* first listening port, 0 = any */
};
extern struct tcp_cfg rb_tcp_cfg;

/* Published through the bootstrap; all fields in network byte order. */
struct tcp_blob {
	uint32_t magic;
	uint32_t ip;			/* rail address */
	uint16_t nstreams;
	uint16_t lo_port;		/* loopback listener, 0 = none */
	uint16_t ports[TCP_MAX_STREAMS];	/* rail listener per stream */
	char ifname[IF_NAMESIZE];
};

/* First bytes on every new connection, from the connecting side. Hello and
 * header are in host byte order: every rank runs the same build. The
 * secret is the job's (rb_tp_args.job_secret): the accepting side takes
 * the connection for rank `rank` only when it matches and the source
 * address is the one rank `rank` published (tcp_hello.c). */
struct tcp_hello {
	uint32_t magic;			/* TCP_HELLO_MAGIC */
	uint32_t rank;
	uint32_t stream;
	uint32_t nstreams;
	unsigned char secret[RB_SECRET_BYTES];
};
#define TCP_HELLO_MAGIC 0x52424831u	/* "RBH1" */
/* Accepted connections that may wait for their hello at once; more are
 * closed at once (a stranger cannot exhaust descriptors). */
#define TCP_MAX_PENDING_IN 256

/* Precedes every message chunk on a stream. */
struct tcp_hdr {
	uint32_t magic;
	uint32_t seq;
	uint64_t len;
};

/* One chunk of a request queued on one stream. */
struct tcp_op {
	struct tcp_op *next;
	struct rb_tp_req *req;
	char *buf;
	size_t len;
	size_t done;			/* bytes moved, header included */
	struct tcp_hdr hdr;
};

struct tcp_queue {
	struct tcp_op *head;
	struct tcp_op *tail;
};

struct tcp_conn {
	int fd;
	int peer;
	int stream;
	int readable;
	int writable;
	int dead;			/* 0, or errno-like cause once failed */
	uint32_t tx_seq;
	uint32_t rx_seq;
	struct tcp_queue txq;
	struct tcp_queue rxq;
};

struct tcp_peer {
	struct tcp_conn conn[TCP_MAX_STREAMS];
	uint64_t tx_msgs;
	uint64_t rx_msgs;
	int local;			/* same node: connected over loopback */
	int reported;			/* failure already logged */
	struct in_addr ip;
	uint16_t port[TCP_MAX_STREAMS];	/* where stream s connects */
	char ifname[IF_NAMESIZE];	/* its interface, as it published it */
};

struct tcp_tp {
	struct rb_tp base;
	struct rb_tp_args args;		/* copy; pointers stay the caller's */
	int epfd;
	int nstreams;
	uint64_t spin_ns;		/* see tcp_spin_ns() */
	int no_pwait2;			/* epoll_wait instead (tcp_wait) */
	int use_dev;			/* SO_BINDTODEVICE on ifname */
	char ifname[IF_NAMESIZE];
	struct in_addr ip;
	int lfd[TCP_MAX_STREAMS];	/* rail listeners */
	uint16_t lport[TCP_MAX_STREAMS];
	int lo_lfd;			/* loopback listener for same-node peers */
	uint16_t lo_port;
	struct tcp_peer *peers;
	struct tcp_op *free_ops;
	struct tcp_queue self_txq;	/* messages to this rank itself */
	struct tcp_queue self_rxq;
	uint64_t ncompleted;
};

static inline struct tcp_tp *tcp_of(struct rb_tp *tp)
{
	return rb_container_of(tp, struct tcp_tp, base);
}

static inline const char *tcp_host(const struct tcp_tp *t, int rank)
{
	if (t->args.hosts && t->args.hosts[rank])
		return t->args.hosts[rank];
	return "?";
}

static inline const char *tcp_peer_if(const struct tcp_tp *t, const struct tcp_peer *p)
{
	return p->local ? "lo" : t->ifname;
}

/* Both ends of the link to peer p for messages: "peer rail1 10.200.1.2:40001,
 * local rail0 10.200.0.1" (port 0: none). \return buf. */
const char *rb_tcp_link_str(const struct tcp_tp *t, const struct tcp_peer *p,
			    unsigned port, char *buf, size_t len);

/* tcp_hello.c */

/* Fills the hello this rank sends on stream `stream`. */
void rb_tcp_hello_make(const struct tcp_tp *t, int stream,
		       struct tcp_hello *h);

/* Checks the len bytes an accepted connection from src sent as its hello:
 * magic, the job secret (constant time), a lower rank this rank serves,
 * stream and stream count, the source address that rank published, and a
 * stream not yet connected. \return 0 with *rank_p and *stream_p, or
 * -RB_EPEER with the reason in why (never a peer then). */
int rb_tcp_hello_check(const struct tcp_tp *t, const void *buf, size_t len,
		       struct in_addr src, int *rank_p, int *stream_p,
		       char *why, size_t why_len);

/* tcp_conn.c */

/* Chooses this rank's interface and IPv4 address (docs/tcp.md): the
 * --net-if entry for its local rank, else the topology's rail NIC, else
 * loopback (one node) or the first up interface. \return 0, or -RB_EINVAL
 * after naming the interface and listing the available ones. */
int rb_tcp_choose_if(struct tcp_tp *t);

/* Opens a listening socket on ip:port (port 0 = any), pinned to the
 * chosen interface when to_dev. \return 0 with *fd_p, *port_p or -RB_ESYS. */
int rb_tcp_listen(struct tcp_tp *t, struct in_addr ip, int port, int to_dev,
		  int *fd_p, uint16_t *port_p);

/* Establishes every stream to every peer (lower rank connects, hello names
 * rank and stream), retrying refused or unreachable peers until --timeout.
 * \return 0, or -RB_EPEER after naming each peer that could not be reached. */
int rb_tcp_setup_run(struct tcp_tp *t);

#endif
