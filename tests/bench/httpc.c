/* The benchmarks' HTTP/1.1 client (httpc.h). */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "onthedot/mem.h"

double httpc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool httpc_connect(struct httpc *c, unsigned port)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if(c->fd < 0)
		return false;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if(connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return false;
	}
	return true;
}

void httpc_request(struct httpc *c, unsigned port, const char *method, const char *path,
                   const char *headers, const char *body, size_t len)
{
	struct otd_buf b;
	otd_buf_init(&b, 256 + len);
	otd_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s", method, path, port,
	               headers ? headers : "");
	if(body)
		otd_buf_printf(&b, "Content-Length: %zu\r\n\r\n", len);
	else
		otd_buf_append(&b, "\r\n", 2);
	if(body)
		otd_buf_append(&b, body, len);
	free(c->out);
	c->out_len = b.len;
	c->out = otd_buf_steal(&b);
	c->out_off = 0;
	c->in_len = 0;
	c->started = httpc_now();
}

void httpc_arm(struct httpc *c, int ep, bool add, void *user)
{
	c->user = user;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = user};
	epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
}

/* A whole answer in c->in: its status, or 0 while more is to come, -1
 * when it cannot be parsed. */
static long answer(struct httpc *c, const char **body)
{
	c->in[c->in_len] = '\0';
	char *end = strstr(c->in, "\r\n\r\n");
	if(!end)
		return 0;
	long code = strncmp(c->in, "HTTP/1.1 ", 9) == 0 ? strtol(c->in + 9, NULL, 10) : -1;
	if(code < 100)
		return -1;
	size_t clen = 0;
	for(char *l = c->in; l && l < end; l = strstr(l, "\r\n"), l = l ? l + 2 : NULL)
		if(strncasecmp(l, "Content-Length:", 15) == 0)
			clen = strtoul(l + 15, NULL, 10);
	size_t need = (size_t)(end + 4 - c->in) + clen;
	if(need > HTTPC_IN_MAX)
		return -1;
	if(c->in_len < need)
		return 0;
	*body = end + 4;
	return code;
}

long httpc_on_events(struct httpc *c, int ep, uint32_t events, const char **body)
{
	if((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
		return -1;
	if(c->out_off < c->out_len && (events & EPOLLOUT)) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if(w > 0)
			c->out_off += (size_t)w;
		else if(w < 0 && errno != EAGAIN)
			return -1;
		if(c->out_off == c->out_len) { /* all sent: wait for the answer only */
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c->user};
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	if(!(events & EPOLLIN))
		return 0;
	if(c->in_cap - c->in_len < 4096) {
		if(c->in_cap >= HTTPC_IN_MAX)
			return -1; /* longer than any answer expected */
		c->in_cap = c->in_cap ? 2 * c->in_cap : 16384;
		c->in = xrealloc(c->in, c->in_cap + 1);
	}
	ssize_t got = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if(got == 0 || (got < 0 && errno != EAGAIN))
		return -1;
	if(got < 0)
		return 0;
	c->in_len += (size_t)got;
	return answer(c, body);
}

void httpc_close(struct httpc *c, int ep)
{
	if(c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	free(c->out);
	free(c->in);
	c->out = c->in = NULL;
	c->out_len = c->out_off = c->in_len = c->in_cap = 0;
}
