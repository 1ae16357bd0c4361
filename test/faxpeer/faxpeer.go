//go:build cgo

// Package faxpeer gives the tests fax machines made of spandsp's own fax
// engine (libspandsp, through cgo): a T.38 terminal that speaks UDPTL
// datagrams and a G.711 fax modem that speaks 8 kHz PCM, each sending a
// TIFF or receiving one, and the TIFF helpers that make a test page and
// read a received one back as pixels.
//
//	T38 (t38_terminal) ─ IFP ─ faxgw.Encoder/Decoder ─ UDPTL datagrams
//	Audio (fax_state: T.30 over V.21/V.27ter/V.29/V.17) ─ PCM 20 ms frames
//
// Both are driven in 20 ms steps by their user (Tick), with real or
// simulated time alike: spandsp's timers count samples.
package faxpeer

/*
#cgo pkg-config: spandsp libtiff-4
#cgo CFLAGS: -I${SRCDIR}/../../media/faxgw
#include <stdlib.h>
#include "ifpqueue.h"

static void fp_phase_e(t30_state_t *s, void *user, int result) {
	sb_queue *q = user;
	q->done = 1;
	q->result = result;
}

static void fp_setup(t30_state_t *t30, sb_queue *q, int sending, const char *file, int ecm) {
	span_log_set_level(t30_get_logging_state(t30), SPAN_LOG_NONE);
	t30_set_tx_ident(t30, sending ? "SWITCHBOARD TX" : "SWITCHBOARD RX");
	t30_set_ecm_capability(t30, ecm);
	t30_set_supported_compressions(t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
	if (sending)
		t30_set_tx_file(t30, file, -1, -1);
	else
		t30_set_rx_file(t30, file, -1);
	t30_set_phase_e_handler(t30, fp_phase_e, q);
}

typedef struct {
	sb_queue q;
	t38_terminal_state_t *t;
} fp_t38;

static fp_t38 *fp_t38_new(int calling, int sending, const char *file, int ecm, int max_rate, int transferred) {
	fp_t38 *p = calloc(1, sizeof(fp_t38));
	p->t = t38_terminal_init(NULL, calling, sb_queue_tx, &p->q);
	t38_core_state_t *c = t38_terminal_get_t38_core_state(p->t);
	span_log_set_level(t38_terminal_get_logging_state(p->t), SPAN_LOG_NONE);
	t38_set_t38_version(c, 0);
	t38_set_fastest_image_data_rate(c, max_rate);
	t38_set_data_rate_management_method(c, transferred ? T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF : T38_DATA_RATE_MANAGEMENT_LOCAL_TCF);
	t30_state_t *t30 = t38_terminal_get_t30_state(p->t);
	fp_setup(t30, &p->q, sending, file, ecm);
	t30_set_supported_modems(t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29 | (max_rate > 9600 ? T30_SUPPORT_V17 : 0));
	return p;
}

static void fp_t38_free(fp_t38 *p) { t38_terminal_free(p->t); free(p); }
static void fp_t38_tick(fp_t38 *p, int samples) { t38_terminal_send_timeout(p->t, samples); }
static void fp_t38_ifp(fp_t38 *p, const uint8_t *buf, int len, int seq) {
	t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(p->t), buf, len, (uint16_t) seq);
}
static int fp_t38_pages(fp_t38 *p, int rx) {
	t30_stats_t st;
	t30_get_transfer_statistics(t38_terminal_get_t30_state(p->t), &st);
	return rx ? st.pages_rx : st.pages_tx;
}

typedef struct {
	sb_queue q;
	fax_state_t *f;
} fp_audio;

static fp_audio *fp_audio_new(int calling, int sending, const char *file, int ecm, int max_rate) {
	fp_audio *p = calloc(1, sizeof(fp_audio));
	p->f = fax_init(NULL, calling);
	span_log_set_level(fax_get_logging_state(p->f), SPAN_LOG_NONE);
	fax_set_transmit_on_idle(p->f, 1);
	t30_state_t *t30 = fax_get_t30_state(p->f);
	fp_setup(t30, &p->q, sending, file, ecm);
	t30_set_supported_modems(t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29 | (max_rate > 9600 ? T30_SUPPORT_V17 : 0));
	return p;
}

static void fp_audio_free(fp_audio *p) { fax_free(p->f); free(p); }
static void fp_audio_tick(fp_audio *p, int16_t *in, int16_t *out, int n) {
	fax_rx(p->f, in, n);
	int k = fax_tx(p->f, out, n);
	if (k < n)
		memset(out + k, 0, (n - k) * sizeof(int16_t));
}
static int fp_audio_pages(fp_audio *p, int rx) {
	t30_stats_t st;
	t30_get_transfer_statistics(fax_get_t30_state(p->f), &st);
	return rx ? st.pages_rx : st.pages_tx;
}
*/
import "C"

import (
	"unsafe"

	"github.com/switchboard/switchboard/media/faxgw"
)

// FrameSamples is one Tick's audio: 20 ms at 8 kHz.
const FrameSamples = faxgw.FrameSamples

// Options shape a fax machine.
type Options struct {
	// Calling is the side that dials (sends CNG); the other answers (CED).
	Calling bool
	// Send sends File (a TIFF); otherwise the machine receives into File.
	Send bool
	File string
	// ECM offers T.30 error correction mode.
	ECM bool
	// MaxBitRate is the fastest image modem: 9600 (V.29) or 14400 (V.17).
	MaxBitRate int
}

func (o Options) bitRate() int {
	if o.MaxBitRate == 0 {
		return 9600
	}
	return o.MaxBitRate
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Result is where a fax machine's T.30 session stands.
type Result struct {
	// Done is set once the session ended (T.30 phase E); Code is its
	// completion code (0: T30_ERR_OK).
	Done bool
	Code int
	// Pages counts the pages sent or received.
	Pages int
}

// T38 is a T.38 fax terminal: T.30 over IFP packets, framed as UDPTL.
type T38 struct {
	p    *C.fp_t38
	enc  *faxgw.Encoder
	dec  faxgw.Decoder
	opts Options
}

// NewT38 makes a T.38 terminal; its datagrams repeat redundancy earlier
// IFP packets.
func NewT38(o Options, redundancy int) *T38 {
	f := C.CString(o.File)
	defer C.free(unsafe.Pointer(f))
	p := C.fp_t38_new(cbool(o.Calling), cbool(o.Send), f, cbool(o.ECM), C.int(o.bitRate()), 1)
	return &T38{p: p, enc: faxgw.NewEncoder(redundancy), opts: o}
}

// Tick advances the terminal by 20 ms and calls send with each UDPTL
// datagram it has for its peer (valid until send returns).
func (t *T38) Tick(send func([]byte)) {
	C.fp_t38_tick(t.p, FrameSamples)
	t.flush(send)
}

// Receive takes one UDPTL datagram from the peer; what the terminal
// answers right away goes to send.
func (t *T38) Receive(pkt []byte, send func([]byte)) {
	_ = t.dec.Decode(pkt, func(seq uint16, ifp []byte) {
		if len(ifp) > 0 {
			C.fp_t38_ifp(t.p, (*C.uint8_t)(unsafe.Pointer(&ifp[0])), C.int(len(ifp)), C.int(seq))
		}
	})
	t.flush(send)
}

func (t *T38) flush(send func([]byte)) {
	q := &t.p.q
	for i := range int(q.n) {
		ifp := C.GoBytes(unsafe.Pointer(&q.buf[i][0]), q.len[i])
		for range max(1, int(q.count[i])) {
			send(t.enc.Encode(ifp))
		}
	}
	q.n = 0
}

// Result reports the session's state.
func (t *T38) Result() Result {
	return Result{Done: t.p.q.done != 0, Code: int(t.p.q.result), Pages: int(C.fp_t38_pages(t.p, cbool(!t.opts.Send)))}
}

// Close frees the terminal.
func (t *T38) Close() { C.fp_t38_free(t.p) }

// Audio is a G.711 fax machine: T.30 over the fax modems, as 8 kHz PCM.
type Audio struct {
	p       *C.fp_audio
	in, out *C.int16_t
	opts    Options
}

// NewAudio makes an audio fax machine.
func NewAudio(o Options) *Audio {
	f := C.CString(o.File)
	defer C.free(unsafe.Pointer(f))
	p := C.fp_audio_new(cbool(o.Calling), cbool(o.Send), f, cbool(o.ECM), C.int(o.bitRate()))
	buf := (*C.int16_t)(C.calloc(2*FrameSamples, C.sizeof_int16_t))
	return &Audio{p: p, in: buf, out: (*C.int16_t)(unsafe.Add(unsafe.Pointer(buf), 2*FrameSamples)), opts: o}
}

// Tick takes the 20 ms the machine hears (in; nil: silence) and fills out
// with the 20 ms it sends.
func (a *Audio) Tick(in, out []int16) {
	cin := unsafe.Slice((*int16)(unsafe.Pointer(a.in)), FrameSamples)
	clear(cin)
	copy(cin, in)
	C.fp_audio_tick(a.p, a.in, a.out, FrameSamples)
	copy(out, unsafe.Slice((*int16)(unsafe.Pointer(a.out)), FrameSamples))
}

// Result reports the session's state.
func (a *Audio) Result() Result {
	return Result{Done: a.p.q.done != 0, Code: int(a.p.q.result), Pages: int(C.fp_audio_pages(a.p, cbool(!a.opts.Send)))}
}

// Close frees the machine.
func (a *Audio) Close() {
	C.fp_audio_free(a.p)
	C.free(unsafe.Pointer(a.in))
}
