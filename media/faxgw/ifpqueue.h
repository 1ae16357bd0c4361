/* ifpqueue.h: the IFP packets spandsp asks to send during one call into
 * it (its t38_tx_packet_handler_t), queued for Go to drain afterwards, so
 * that C never calls back into Go. Shared by the gateway and the test's
 * fax peers (test/faxpeer). */
#ifndef SB_IFPQUEUE_H
#define SB_IFPQUEUE_H
#include <stdint.h>
#include <string.h>
#include <tiffio.h>
#include <spandsp.h>

#define SB_QN 64
#define SB_QMAX 512
typedef struct {
	int n;
	int len[SB_QN];
	int count[SB_QN];
	uint8_t buf[SB_QN][SB_QMAX];
	int done;   /* T.30 phase E reached (fax peers) */
	int result; /* its completion code */
} sb_queue;

static int sb_queue_tx(t38_core_state_t *s, void *user, const uint8_t *buf, int len, int count) {
	sb_queue *q = user;
	if (q->n >= SB_QN || len > SB_QMAX || len < 0)
		return -1;
	memcpy(q->buf[q->n], buf, len);
	q->len[q->n] = len;
	q->count[q->n] = count;
	q->n++;
	return 0;
}
#endif
