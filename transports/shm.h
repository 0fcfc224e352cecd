/* SPDX-License-Identifier: BSD-3-Clause */
/* Private state of the shm transport, shared by shm.c (data path, waiting,
 * ops) and shm_seg.c (segments, connection setup, peer liveness). Nothing
 * outside transports/shm*.c includes it. Design: docs/shm.md. */
#ifndef RB_TRANSPORTS_SHM_H
#define RB_TRANSPORTS_SHM_H

#include <stdatomic.h>
#include <stdint.h>

#include "transports/transport.h"

extern const struct rb_tp_ops rb_shm_ops;

#define SHM_MAGIC 0x72627368u		/* "rbsh" */
#define SHM_VERSION 3u
#define SHM_LINE 64
#define SHM_NSLOTS 8u
#define SHM_SLOT_MAX (256u * 1024)	/* payload bytes per slot */
#define SHM_SLOT_MIN (16u * 1024)
#define SHM_FIFO_BUDGET (64ull << 20)	/* all FIFOs of one segment */
#define SHM_CMA_MIN (64u * 1024)	/* with RB_SHM_CMA=1: smaller ones copied */
#define SHM_CMA_CHUNK (1u << 20)	/* bytes read per progress pass */
#define SHM_NAME_MAX 64
#define SHM_HOST_MAX 64
/* Waiting policy (docs/shm.md#waiting): after a pass that moved nothing,
 * busy-poll (only with a core per local rank) for an adaptive budget, then
 * sched_yield(), then sleep on the doorbell futex until a peer rings. */
#define SHM_SPIN_MIN_NS 5000ll		/* busy-poll budget: floor */
#define SHM_SPIN_MAX_NS 200000ll	/* and ceiling; the budget starts here */
#define SHM_SPIN_GROW_WAITS 4		/* waits within 4 budgets grow it */
#define SHM_SPIN_SLOW_NS 1000000ll	/* waits beyond 1 ms shrink it */
#define SHM_YIELD_NS 10000ll		/* sched_yield() until idle this long */
#define SHM_CHECK_NS 100000000ll	/* liveness check period while idle */

enum shm_frag_kind {
	SHM_FRAG_DATA = 1,	/* payload follows the header */
	SHM_FRAG_CMA = 2,	/* receiver reads msg_len bytes at addr */
};

enum shm_cma_state {
	SHM_CMA_UNKNOWN = 0,	/* receiver has not connected yet */
	SHM_CMA_OK = 1,
	SHM_CMA_NO = 2,
};

/* First cache line of every slot. */
struct shm_slot_hdr {
	uint32_t kind;
	uint32_t pad;
	uint64_t frag_len;	/* DATA: payload bytes in this slot */
	uint64_t msg_len;	/* whole message */
	uint64_t addr;		/* CMA: buffer address in the sender */
	/* Written last, with release: the FIFO index of this slot's fill
	 * plus one. The consumer polls it in the slot itself, so a small
	 * message costs one cache-line transfer, not two (head and slot). */
	_Atomic uint64_t seq;
};

/* One FIFO per ordered pair (src -> owner), in the owner's segment. A
 * filled slot is marked by its own seq (struct shm_slot_hdr); tail and
 * acks count slots/messages since open and never wrap. */
struct shm_fifo {
	_Alignas(SHM_LINE) _Atomic uint64_t tail;	/* written by owner */
	_Alignas(SHM_LINE) _Atomic uint64_t acks;	/* CMA messages read */
	_Atomic uint32_t cma;	/* enum shm_cma_state: may owner read src */
};

/* Start of every segment. */
struct shm_seg_hdr {
	uint32_t magic;
	uint32_t version;
	int32_t rank;
	int32_t nfifos;		/* one per rank of the node */
	int32_t pid;
	uint32_t nslots;
	uint64_t slot_bytes;	/* payload per slot */
	uint64_t fifo_off;	/* offset of the FIFO of src 0 */
	uint64_t fifo_stride;	/* bytes per src: control + slots */
	uint64_t bytes;		/* whole segment */
	/* Doorbell: the owner sets sleeping before it waits on bell; a peer
	 * that published something for it then bumps bell and wakes it. */
	_Alignas(SHM_LINE) _Atomic uint32_t sleeping;
	_Atomic uint32_t bell;
};

/* Address blob published through the bootstrap. */
struct shm_addr {
	uint32_t magic;
	uint32_t version;
	int32_t rank;
	int32_t pid;
	uint64_t pidns;		/* pid namespace inode: pids comparable? */
	uint64_t seg_bytes;
	uint64_t seg_va;	/* owner's mapping, read back to probe CMA */
	char name[SHM_NAME_MAX];
};

struct shm_rq {
	struct rb_tp_req *head;
	struct rb_tp_req *tail;
};

struct shm_peer {
	struct shm_seg_hdr *seg;	/* peer's segment (self: our own) */
	size_t seg_bytes;		/* mapped length */
	struct shm_fifo *tx;		/* me -> peer, in the peer's segment */
	char *tx_slots;
	struct shm_fifo *rx;		/* peer -> me, in our segment */
	char *rx_slots;
	uint64_t tx_head;		/* slots filled so far */
	uint64_t tx_tail;		/* last tx->tail seen */
	uint64_t rx_tail;		/* consumer's copy of rx->tail */
	uint64_t cma_sent;		/* CMA descriptors pushed */
	uint64_t cma_read;		/* CMA messages read (our rx->acks) */
	struct shm_rq sendq;		/* sends not fully pushed */
	struct shm_rq ackq;		/* CMA sends waiting for the read */
	struct shm_rq recvq;		/* posted receives */
	int32_t pid;
	unsigned long long start_time;	/* /proc/PID/stat field 22 */
	int pid_ok;			/* same pid namespace: pid usable */
	int served;			/* connected: on this node, in the peer set */
	int gone;
	char host[SHM_HOST_MAX];
};

struct shm_tp {
	struct rb_tp tp;
	struct shm_peer *peers;		/* [nranks] */
	int *fifo_of;			/* [nranks] FIFO index, -1 elsewhere */
	int nfifos;			/* ranks on this node */
	int nserved;			/* peers connected, self excluded */
	struct shm_seg_hdr *seg;
	size_t seg_bytes;
	char seg_name[SHM_NAME_MAX];
	int linked;
	int oversubscribed;		/* more local ranks than CPUs */
	int cma_allowed;		/* RB_SHM_CMA=1 */
	uint64_t pidns;
	size_t slot_stride;
	uint64_t npending;		/* requests not done */
	uint64_t idle_since_ns;		/* 0 while moving */
	int64_t spin_ns;		/* current busy-poll budget */
	long nivcsw;			/* involuntary switches seen so far */
	uint64_t last_check_ns;
	char *bounce;			/* CMA reads of receive-reduces */
};

/* Per-request words (struct rb_tp_req priv/upriv). */
#define REQ_NEXT(r) ((r)->priv[0])
#define REQ_BUF(r) ((char *)(r)->priv[1])
#define REQ_DONE_BYTES(r) ((r)->upriv[0])
#define REQ_CMA_SEQ(r) ((r)->upriv[1])	/* send: ack count that completes it */
#define REQ_STATE(r) ((r)->upriv[1])	/* recv: enum shm_recv_state */
#define REQ_RADDR(r) ((r)->upriv[2])	/* recv: CMA source address */
#define REQ_USE_CMA(r) ((r)->upriv[3])	/* send: goes as a CMA descriptor */
/* recv: 0, or a receive-reduce: 1 | dtype << 8 | op << 16 */
#define REQ_RED(r) ((r)->upriv[3])
#define REQ_SEED(r) ((const char *)(r)->priv[2])	/* its local term */
#define REQ_RED_DTYPE(r) ((enum rb_dtype)((REQ_RED(r) >> 8) & 0xff))
#define REQ_RED_OP(r) ((enum rb_redop)(REQ_RED(r) >> 16))

enum shm_recv_state {
	SHM_RECV_WAIT = 0,	/* no fragment of it consumed yet */
	SHM_RECV_DATA = 1,
	SHM_RECV_CMA = 2,
};

static inline struct shm_tp *shm_of(struct rb_tp *tp)
{
	return rb_container_of(tp, struct shm_tp, tp);
}

/* shm_seg.c. Each returns 0 or -RB_E* after logging the cause, like the
 * rb_tp_ops members they implement. */

/* Always 0: shm runs wherever POSIX shared memory does. */
int rb_shm_probe(const struct rb_tp_args *args, char *why, size_t len);
/* 1 when peer is on this rank's node. */
int rb_shm_reach(const struct rb_tp_args *args, int peer);
/* Creates this rank's segment (unique name per run) and the state. */
int rb_shm_open(const struct rb_tp_args *args, struct rb_tp **tp_p);
int rb_shm_get_addr(struct rb_tp *tp, void *blob, size_t *len_p);
/* Maps the segment of every peer it serves and tells each whether we can
 * read its memory directly (CMA). */
int rb_shm_connect(struct rb_tp *tp, const void *blobs, size_t stride);
/* Unlinks our segment name: every peer has mapped it by now. */
int rb_shm_post_connect(struct rb_tp *tp);
/* NULL-safe; unmaps every segment, unlinks ours if still linked. */
void rb_shm_close(struct rb_tp *tp);
/* \return 1 if peer p has exited or its pid names another process now,
 * 0 if it lives or cannot be checked (other pid namespace). */
int rb_shm_peer_dead(const struct shm_peer *p);

#endif
