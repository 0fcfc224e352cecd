/* SPDX-License-Identifier: BSD-3-Clause */
/* tcp transport, control side: which interface a rank uses, the options
 * every socket gets, and the connection setup with bounded retries. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transports/tcp.h"

/* ---- interface selection ------------------------------------------------ */

static void tcp_list_ifs(struct ifaddrs *ifa, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; ifa && used < len; ifa = ifa->ifa_next) {
		char ip[INET_ADDRSTRLEN];
		int n;

		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr,
			  ip, sizeof(ip));
		n = snprintf(buf + used, len - used, "%s%s %s",
			     used ? ", " : "", ifa->ifa_name, ip);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Picks entry (local_rank mod count) of a comma-separated list. */
static int tcp_count_entries(const char *list);

static int tcp_pick_entry(const char *list, int k, char *out, size_t len)
{
	const char *p = list;
	size_t n;

	k %= tcp_count_entries(list);
	while (k--)
		p = strchr(p, ',') + 1;
	n = strcspn(p, ",");
	if (n == 0 || n >= len)
		return -RB_EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* \return 1 when every peer this rank serves is on its node. */
static int tcp_all_local(const struct rb_tp_args *a)
{
	if (!a->node_of)
		return a->nranks == 1;
	for (int r = 0; r < a->nranks; r++) {
		if (rb_tp_args_serves(a, r) && a->node_of[r] != a->node_of[a->rank])
			return 0;
	}
	return 1;
}

/* \return how many entries a comma-separated list has. */
static int tcp_count_entries(const char *list)
{
	int count = 1;

	for (const char *c = list; *c; c++)
		count += *c == ',';
	return count;
}

/* Line rate of interface ifname in Gb/s from sysfs `speed` (Mb/s), 0 when
 * it is unknown (-1, unreadable) or the interface has no device behind it:
 * veth, bridges and loopback report a nominal speed (veth says 10000) that
 * no wire backs. */
static double tcp_line_gbps(const char *ifname)
{
	char path[128];
	FILE *f;
	long mbps = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	if (access(path, F_OK))
		return 0.0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", ifname);
	f = fopen(path, "r");
	if (!f)
		return 0.0;
	if (fscanf(f, "%ld", &mbps) != 1 || mbps <= 0)
		mbps = 0;
	fclose(f);
	return (double)mbps / 1000.0;
}

/* Chooses the interface and its IPv4 address: --net-if entry, then the rail
 * NIC from topology, then loopback (one node) or the first up non-loopback
 * interface. */
int rb_tcp_choose_if(struct tcp_tp *t)
{
	const struct rb_tp_args *a = &t->args;
	const char *want_list = rb_tcp_cfg.net_if;
	char want[IF_NAMESIZE] = "";
	struct ifaddrs *ifs = NULL;
	struct ifaddrs *ifa;
	int rc = 0;

	if (want_list && *want_list) {
		if (tcp_pick_entry(want_list, a->local_rank, want,
				   sizeof(want))) {
			rb_err("tcp: invalid --net-if '%s'", want_list);
			return -RB_EINVAL;
		}
		t->base.rail = a->local_rank % tcp_count_entries(want_list);
	} else if (a->rail_netdev && *a->rail_netdev) {
		snprintf(want, sizeof(want), "%s", a->rail_netdev);
		t->base.rail = a->rail;
	} else if (tcp_all_local(a)) {
		snprintf(want, sizeof(want), "lo");
	}
	if (getifaddrs(&ifs)) {
		rb_err("tcp: getifaddrs: %s", strerror(errno));
		return -RB_ESYS;
	}
	for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
			continue;
		if (want[0] ? !strcmp(ifa->ifa_name, want) :
			      (ifa->ifa_flags & IFF_UP) &&
				      !(ifa->ifa_flags & IFF_LOOPBACK))
			break;
	}
	if (!ifa) {
		char list[512];

		tcp_list_ifs(ifs, list, sizeof(list));
		if (want[0])
			rb_err("tcp: interface '%s' has no IPv4 address or does not exist; available: %s",
			       want, list);
		else
			rb_err("tcp: no usable IPv4 interface; available: %s; name one with --net-if",
			       list);
		rc = -RB_EINVAL;
		goto out_free;
	}
	if (!(ifa->ifa_flags & IFF_UP)) {
		rb_err("tcp: interface '%s' is down", ifa->ifa_name);
		rc = -RB_EINVAL;
		goto out_free;
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifa->ifa_name);
	snprintf(t->base.nic, sizeof(t->base.nic), "%s", ifa->ifa_name);
	t->base.line_gbps = tcp_line_gbps(ifa->ifa_name);
	t->ip = ((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
	/* Pin to the device only when the user or topology named it. */
	t->use_dev = want[0] && strcmp(want, "lo") != 0;
out_free:
	freeifaddrs(ifs);
	return rc;
}

/* ---- sockets -------------------------------------------------------------- */

static void tcp_set_int(int fd, int level, int opt, int val)
{
	/* Tuning only: a refused option leaves the kernel default. */
	(void)setsockopt(fd, level, opt, &val, sizeof(val));
}

/* Options every socket gets (accepted ones again, to be explicit): buffers,
 * Nagle off, and the dead-peer bounds derived from --timeout (docs/tcp.md). */
static void tcp_sock_opts(const struct tcp_tp *t, int fd)
{
	int64_t to_ms = t->base.timeout_ms > 0 ? t->base.timeout_ms : 30000;

	/* Forced sizes need CAP_NET_ADMIN; without it autotuning stays on,
	 * which beats a small fixed buffer. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE,
		       &(int){ TCP_SOCKBUF_BYTES }, sizeof(int)) == 0)
		tcp_set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, TCP_SOCKBUF_BYTES);
	tcp_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	tcp_set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)RB_MIN(to_ms, 1 << 30));
	tcp_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	tcp_set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)RB_MAX(1, to_ms / 3000));
	tcp_set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1);
	tcp_set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
}

static int tcp_sock_new(struct tcp_tp *t, int to_dev)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rb_err("tcp: socket: %s", strerror(errno));
		return -RB_ESYS;
	}
	tcp_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	tcp_sock_opts(t, fd);
	if (to_dev && t->use_dev &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, t->ifname,
		       (socklen_t)strlen(t->ifname) + 1)) {
		if (errno != EPERM) {
			rb_err("tcp: SO_BINDTODEVICE %s: %s", t->ifname,
			       strerror(errno));
			close(fd);
			return -RB_ESYS;
		}
		/* Old kernels want CAP_NET_RAW; the source address still
		 * selects the rail wherever routing is per interface. */
		rb_warn("tcp: not permitted to pin sockets to %s; binding to its address only",
			t->ifname);
		t->use_dev = 0;
	}
	return fd;
}

int rb_tcp_listen(struct tcp_tp *t, struct in_addr ip, int port, int to_dev,
		  int *fd_p, uint16_t *port_p)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr = ip,
		.sin_port = htons((uint16_t)port),
	};
	socklen_t sl = sizeof(sa);
	char ips[INET_ADDRSTRLEN];
	int fd;

	fd = tcp_sock_new(t, to_dev);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 128) || getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		rb_err("tcp: listen on %s:%d (%s): %s",
		       inet_ntop(AF_INET, &ip, ips, sizeof(ips)), port,
		       to_dev ? t->ifname : "lo", strerror(errno));
		close(fd);
		return -RB_ESYS;
	}
	*fd_p = fd;
	*port_p = ntohs(sa.sin_port);
	return 0;
}

/* ---- connection setup ---------------------------------------------------- */

/* One outgoing stream (to a higher rank) or one accepted socket whose hello
 * is still being read. */
struct tcp_pend {
	int fd;
	int peer;
	int stream;
	int connecting;
	int last_err;
	uint64_t next_try_ns;
	unsigned backoff_ms;
	size_t got;
	struct tcp_hello hello;
	struct sockaddr_in src;		/* accepted: where it came from */
};

/* Sources of rejected connections already logged (once each). */
#define TCP_REJECT_LOG_MAX 32

struct tcp_setup {
	struct tcp_pend *out;		/* [nout] */
	int nout;
	struct tcp_pend *in;		/* accepted, hello pending */
	int nin;
	int cap_in;
	int missing;			/* streams not yet established */
	struct in_addr logged[TCP_REJECT_LOG_MAX];
	int nlogged;
	int nrejected;			/* rejections not logged */
};

static void tcp_pend_retry(struct tcp_pend *o, int err, uint64_t now)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	o->connecting = 0;
	o->last_err = err;
	o->next_try_ns = now + (uint64_t)o->backoff_ms * 1000000;
	o->backoff_ms = RB_MIN(o->backoff_ms * 2, TCP_RETRY_MAX_MS);
}

static void tcp_conn_set(struct tcp_tp *t, struct tcp_setup *su, int peer,
			 int stream, int fd)
{
	t->peers[peer].conn[stream].fd = fd;
	su->missing--;
}

/* Starts (or restarts) one outgoing connection attempt. */
static int tcp_out_start(struct tcp_tp *t, struct tcp_pend *o, uint64_t now)
{
	struct tcp_peer *p = &t->peers[o->peer];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = p->ip,
				   .sin_port = htons(p->port[o->stream]) };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr = t->ip };
	int fd = tcp_sock_new(t, !p->local);

	if (fd < 0)
		return fd;
	o->fd = fd;
	/* The source address pins the rail as much as the device does. */
	if (!p->local && bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		tcp_pend_retry(o, errno, now);
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0 ||
	    errno == EINPROGRESS)
		o->connecting = 1;
	else
		tcp_pend_retry(o, errno, now);
	return 0;
}

/* The connect finished: check it and send the hello. */
static void tcp_out_done(struct tcp_tp *t, struct tcp_setup *su,
			 struct tcp_pend *o, uint64_t now)
{
	struct tcp_hello h;
	int err = 0;
	socklen_t el = sizeof(err);

	rb_tcp_hello_make(t, o->stream, &h);
	if (getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &el))
		err = errno;
	if (!err && send(o->fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h))
		err = errno ? errno : EPROTO;
	if (err) {
		tcp_pend_retry(o, err, now);
		return;
	}
	tcp_conn_set(t, su, o->peer, o->stream, o->fd);
	o->fd = -1;
	o->connecting = 0;
	o->peer = -1;
}

/* Closes a connection that is not a peer and says so, once per source
 * address: a stranger that keeps trying cannot flood the log. */
static void tcp_reject(struct tcp_tp *t, struct tcp_setup *su, int fd,
		       const struct sockaddr_in *src, const char *why)
{
	struct sockaddr_in dst = { 0 };
	socklen_t dl = sizeof(dst);
	char ips[INET_ADDRSTRLEN];
	char here[INET_ADDRSTRLEN];
	int i;

	/* Where it came in: a rail listener or the loopback one. */
	if (getsockname(fd, (struct sockaddr *)&dst, &dl))
		dst.sin_addr = t->ip;
	close(fd);
	for (i = 0; i < su->nlogged; i++) {
		if (su->logged[i].s_addr == src->sin_addr.s_addr)
			break;
	}
	if (i < su->nlogged || su->nlogged == TCP_REJECT_LOG_MAX) {
		su->nrejected++;
		return;
	}
	su->logged[su->nlogged++] = src->sin_addr;
	rb_warn("tcp: rejected a connection from %s:%u to %s %s:%u: %s",
		inet_ntop(AF_INET, &src->sin_addr, ips, sizeof(ips)),
		ntohs(src->sin_port),
		ntohl(dst.sin_addr.s_addr) >> 24 == 127 ? "lo" : t->ifname,
		inet_ntop(AF_INET, &dst.sin_addr, here, sizeof(here)),
		ntohs(dst.sin_port), why);
}

static int tcp_accept_all(struct tcp_tp *t, struct tcp_setup *su, int lfd)
{
	for (;;) {
		struct sockaddr_in src = { 0 };
		socklen_t sl = sizeof(src);
		int fd = accept4(lfd, (struct sockaddr *)&src, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return 0;	/* EAGAIN, or a connection that died */
		if (sl != sizeof(src) || src.sin_family != AF_INET) {
			close(fd);
			continue;
		}
		if (su->nin >= TCP_MAX_PENDING_IN) {
			tcp_reject(t, su, fd, &src,
				   "too many connections waiting for their hello");
			continue;
		}
		if (su->nin == su->cap_in) {
			int cap = su->cap_in ? 2 * su->cap_in : 16;
			struct tcp_pend *n = realloc(su->in, sizeof(*n) * (size_t)cap);

			if (!n) {
				close(fd);
				return -RB_ENOMEM;
			}
			su->in = n;
			su->cap_in = cap;
		}
		tcp_sock_opts(t, fd);
		su->in[su->nin++] = (struct tcp_pend){ .fd = fd, .peer = -1,
						       .src = src };
	}
}

/* Reads (part of) an accepted socket's hello; exactly the hello, so that
 * data behind it stays in the socket. \return 1 when the entry is used up. */
static int tcp_in_hello(struct tcp_tp *t, struct tcp_setup *su,
			struct tcp_pend *in)
{
	ssize_t n = recv(in->fd, (char *)&in->hello + in->got,
			 sizeof(in->hello) - in->got, MSG_DONTWAIT);
	char why[160];
	int rank;
	int stream;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0)
		in->got += (size_t)n;
	if (n > 0 && in->got < sizeof(in->hello))
		return 0;
	if (rb_tcp_hello_check(t, &in->hello, in->got, in->src.sin_addr, &rank,
			       &stream, why, sizeof(why))) {
		tcp_reject(t, su, in->fd, &in->src, why);
		return 1;
	}
	tcp_conn_set(t, su, rank, stream, in->fd);
	return 1;
}

static int tcp_setup_init(struct tcp_tp *t, struct tcp_setup *su)
{
	int n = 0;

	/* out[] has a slot per stream of every higher rank; those of peers
	 * this rank does not serve start out done (peer -1). */
	su->nout = (t->base.nranks - t->base.rank - 1) * t->nstreams;
	su->missing = 0;
	su->out = calloc((size_t)RB_MAX(su->nout, 1), sizeof(*su->out));
	if (!su->out)
		return -RB_ENOMEM;
	for (int r = 0; r < t->base.nranks; r++)
		su->missing += rb_tp_args_serves(&t->args, r) * t->nstreams;
	for (int r = t->base.rank + 1; r < t->base.nranks; r++) {
		int serve = rb_tp_args_serves(&t->args, r);

		for (int s = 0; s < t->nstreams; s++)
			su->out[n++] = (struct tcp_pend){
				.fd = -1, .peer = serve ? r : -1, .stream = s,
				.backoff_ms = TCP_RETRY_MIN_MS };
	}
	return 0;
}

/* Connections still waiting for a hello when setup ends are not peers:
 * every peer stream is connected, or the setup failed. */
static void tcp_setup_fini(struct tcp_tp *t, struct tcp_setup *su)
{
	for (int i = 0; i < su->nout; i++) {
		if (su->out[i].fd >= 0)
			close(su->out[i].fd);
	}
	for (int i = 0; i < su->nin; i++)
		tcp_reject(t, su, su->in[i].fd, &su->in[i].src,
			   "no complete hello before the setup ended");
	if (su->nrejected)
		rb_warn("tcp: rejected %d more connections (sources above)",
			su->nrejected);
	free(su->out);
	free(su->in);
}

/* Names every peer whose streams are missing at the deadline. */
static void tcp_setup_report(struct tcp_tp *t, struct tcp_setup *su)
{
	char link[160];

	for (int r = 0; r < t->base.nranks; r++) {
		struct tcp_peer *p = &t->peers[r];
		int s;

		if (!rb_tp_args_serves(&t->args, r))
			continue;
		for (s = 0; s < t->nstreams; s++) {
			if (p->conn[s].fd < 0)
				break;
		}
		if (s == t->nstreams)
			continue;
		if (r > t->base.rank) {
			int err = su->out[(r - t->base.rank - 1) * t->nstreams + s].last_err;

			rb_err("tcp: cannot connect to rank %d (host %s, %s): %s",
			       r, tcp_host(t, r),
			       rb_tcp_link_str(t, p, p->port[s], link, sizeof(link)),
			       strerror(err ? err : ETIMEDOUT));
		} else {
			rb_err("tcp: rank %d (host %s, %s) did not connect within %lld ms",
			       r, tcp_host(t, r),
			       rb_tcp_link_str(t, p, 0, link, sizeof(link)),
			       (long long)t->base.timeout_ms);
		}
	}
}

/* One poll() round of the setup: listeners, connects in flight, hellos. */
static int tcp_setup_round(struct tcp_tp *t, struct tcp_setup *su,
			   struct pollfd *pfd, int wait_ms)
{
	int nl = 0;
	int n;
	int rc = 0;
	uint64_t now;

	for (int s = 0; s < t->nstreams; s++)
		pfd[nl++] = (struct pollfd){ .fd = t->lfd[s], .events = POLLIN };
	if (t->lo_lfd >= 0)
		pfd[nl++] = (struct pollfd){ .fd = t->lo_lfd, .events = POLLIN };
	n = nl;
	for (int i = 0; i < su->nout; i++)
		pfd[n++] = (struct pollfd){ .fd = su->out[i].connecting ?
						su->out[i].fd : -1,
					    .events = POLLOUT };
	for (int i = 0; i < su->nin; i++)
		pfd[n++] = (struct pollfd){ .fd = su->in[i].fd, .events = POLLIN };
	if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR) {
		rb_err("tcp: poll: %s", strerror(errno));
		return -RB_ESYS;
	}
	now = rb_time_ns();
	for (int i = 0; i < su->nout; i++) {
		if (pfd[nl + i].revents)
			tcp_out_done(t, su, &su->out[i], now);
	}
	for (int i = su->nin - 1; i >= 0; i--) {
		if (pfd[nl + su->nout + i].revents && tcp_in_hello(t, su, &su->in[i]))
			su->in[i] = su->in[--su->nin];
	}
	for (int i = 0; i < nl && !rc; i++) {
		if (pfd[i].revents)
			rc = tcp_accept_all(t, su, pfd[i].fd);
	}
	return rc;
}

/* Lower ranks connect to higher ones, every stream separately; failed
 * attempts are retried with back-off until --timeout. */
int rb_tcp_setup_run(struct tcp_tp *t)
{
	int64_t to_ms = t->base.timeout_ms > 0 ? t->base.timeout_ms : 30000;
	uint64_t deadline = rb_time_ns() + (uint64_t)to_ms * 1000000;
	struct tcp_setup su = { 0 };
	struct pollfd *pfd = NULL;
	int rc;

	rc = tcp_setup_init(t, &su);
	if (rc)
		goto out;
	while (su.missing > 0) {
		uint64_t now = rb_time_ns();
		uint64_t next = deadline;

		if (now >= deadline) {
			tcp_setup_report(t, &su);
			rc = -RB_EPEER;
			goto out;
		}
		for (int i = 0; i < su.nout && !rc; i++) {
			struct tcp_pend *o = &su.out[i];

			if (o->peer >= 0 && o->fd < 0 && now >= o->next_try_ns)
				rc = tcp_out_start(t, o, now);
			if (o->peer >= 0 && o->fd < 0)
				next = RB_MIN(next, o->next_try_ns);
		}
		free(pfd);
		pfd = calloc((size_t)(t->nstreams + 1 + su.nout + su.nin),
			     sizeof(*pfd));
		if (!rc && !pfd)
			rc = -RB_ENOMEM;
		if (!rc)
			rc = tcp_setup_round(t, &su, pfd,
					     (int)((next > now ? next - now : 0) /
						   1000000) + 1);
		if (rc)
			goto out;
	}
out:
	free(pfd);
	tcp_setup_fini(t, &su);
	return rc;
}

