//go:build cgo

package faxgw

/*
#cgo pkg-config: spandsp
#include <stdlib.h>
#include "ifpqueue.h"

typedef struct {
	sb_queue q;
	t38_gateway_state_t *gw;
} sb_gw;

static sb_gw *sb_gw_new(int version, int max_rate, int rate_mgmt, int max_datagram, int ecm, int modems) {
	sb_gw *g = calloc(1, sizeof(sb_gw));
	if (!g)
		return NULL;
	g->gw = t38_gateway_init(NULL, sb_queue_tx, &g->q);
	if (!g->gw) {
		free(g);
		return NULL;
	}
	t38_core_state_t *c = t38_gateway_get_t38_core_state(g->gw);
	t38_set_t38_version(c, version);
	t38_set_fastest_image_data_rate(c, max_rate);
	t38_set_data_rate_management_method(c, rate_mgmt);
	if (max_datagram > 0)
		t38_set_max_datagram_size(c, max_datagram);
	t38_gateway_set_ecm_capability(g->gw, ecm);
	t38_gateway_set_supported_modems(g->gw, modems);
	t38_gateway_set_transmit_on_idle(g->gw, 1);
	span_log_set_level(t38_gateway_get_logging_state(g->gw), SPAN_LOG_NONE);
	return g;
}

static void sb_gw_free(sb_gw *g) {
	t38_gateway_free(g->gw);
	free(g);
}

static void sb_gw_audio(sb_gw *g, int16_t *in, int16_t *out, int n) {
	t38_gateway_rx(g->gw, in, n);
	int k = t38_gateway_tx(g->gw, out, n);
	if (k < n)
		memset(out + k, 0, (n - k) * sizeof(int16_t));
}

static int sb_gw_ifp(sb_gw *g, const uint8_t *buf, int len, int seq) {
	return t38_core_rx_ifp_packet(t38_gateway_get_t38_core_state(g->gw), buf, len, (uint16_t) seq);
}

static int sb_gw_pages(sb_gw *g) {
	t38_stats_t st;
	t38_gateway_get_transfer_statistics(g->gw, &st);
	return st.pages_transferred;
}
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"
)

// FrameSamples is the audio a Gateway takes and gives per call of Audio:
// 20 ms of 8 kHz PCM (the engine's playout tick).
const FrameSamples = 160

// Config is the T.38 session the gateway speaks toward the T.38 leg, as
// negotiated in SDP (media.T38, ITU-T T.38 Annex D.2.3).
type Config struct {
	// Version is T38FaxVersion (0-3).
	Version int
	// MaxBitRate is T38MaxBitRate in bit/s; 0 means 14400.
	MaxBitRate int
	// TransferredTCF selects T38FaxRateManagement transferredTCF (else
	// localTCF).
	TransferredTCF bool
	// MaxDatagram is the peer's T38FaxMaxDatagram (0: not given).
	MaxDatagram int
	// Redundancy is how many earlier IFP packets each UDPTL datagram
	// repeats (t38UDPRedundancy); 0 sends none (no error correction).
	Redundancy int
	// NoECM turns off T.30 error correction mode through the gateway.
	NoECM bool
}

// Gateway is a T.38 ↔ G.711 fax gateway: spandsp's t38_gateway (ITU-T
// T.38 with its T.30 relay and the V.21/V.27ter/V.29/V.17 modems) between
// the 8 kHz PCM of an audio leg and the UDPTL datagrams of a T.38 leg.
// Audio runs on the playout clock, ReceiveUDPTL on the T.38 endpoint's
// reactor; a mutex serialises them (spandsp's state is not shared-safe).
type Gateway struct {
	mu     sync.Mutex // guards everything below
	g      *C.sb_gw
	enc    *Encoder
	dec    Decoder
	send   func(datagram []byte)
	in     *[FrameSamples]C.int16_t // C memory: spandsp reads and writes it
	out    *[FrameSamples]C.int16_t
	closed bool
	stats  Stats
}

// Stats counts what a gateway carried.
type Stats struct {
	// DatagramsIn and DatagramsOut count UDPTL datagrams; IFPIn counts
	// the IFP packets decoded from them (recovered ones included).
	DatagramsIn, DatagramsOut, IFPIn uint64
	// Malformed counts datagrams that were not UDPTL.
	Malformed uint64
	// Pages is the number of fax pages the gateway has carried.
	Pages int
}

// New starts a gateway; send is called with each UDPTL datagram for the
// T.38 peer (under the gateway's lock: it must not block or keep the
// slice).
func New(cfg Config, send func(datagram []byte)) (*Gateway, error) {
	rate := cfg.MaxBitRate
	if rate <= 0 || rate > 14400 {
		rate = 14400
	}
	modems := C.T30_SUPPORT_V27TER | C.T30_SUPPORT_V29
	if rate > 9600 {
		modems |= C.T30_SUPPORT_V17
	}
	mgmt := C.T38_DATA_RATE_MANAGEMENT_LOCAL_TCF
	if cfg.TransferredTCF {
		mgmt = C.T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF
	}
	ecm := 1
	if cfg.NoECM {
		ecm = 0
	}
	g := C.sb_gw_new(C.int(cfg.Version), C.int(rate), C.int(mgmt), C.int(cfg.MaxDatagram), C.int(ecm), C.int(modems))
	if g == nil {
		return nil, errors.New("faxgw: t38_gateway_init failed")
	}
	pcm := (*[2 * FrameSamples]C.int16_t)(C.calloc(2*FrameSamples, C.sizeof_int16_t))
	return &Gateway{
		g: g, enc: NewEncoder(cfg.Redundancy), send: send,
		in: (*[FrameSamples]C.int16_t)(pcm[:FrameSamples]), out: (*[FrameSamples]C.int16_t)(pcm[FrameSamples:]),
	}, nil
}

// Audio takes 20 ms of the audio leg's PCM (in, FrameSamples at 8 kHz)
// and fills out with the 20 ms to send it; the T.38 datagrams the audio
// gives rise to are sent before it returns. spandsp's T.38 timers run on
// these samples, so Audio must be called every 20 ms, with silence when
// nothing arrived.
func (g *Gateway) Audio(in, out []int16) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		clear(out)
		return
	}
	n := min(len(in), FrameSamples)
	pcm := unsafe.Slice((*int16)(unsafe.Pointer(&g.in[0])), FrameSamples)
	copy(pcm, in[:n])
	clear(pcm[n:])
	C.sb_gw_audio(g.g, &g.in[0], &g.out[0], FrameSamples)
	copy(out, unsafe.Slice((*int16)(unsafe.Pointer(&g.out[0])), FrameSamples))
	g.flush()
}

// ReceiveUDPTL takes one datagram from the T.38 peer.
func (g *Gateway) ReceiveUDPTL(pkt []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.stats.DatagramsIn++
	err := g.dec.Decode(pkt, func(seq uint16, ifp []byte) {
		g.stats.IFPIn++
		if len(ifp) > 0 {
			C.sb_gw_ifp(g.g, (*C.uint8_t)(unsafe.Pointer(&ifp[0])), C.int(len(ifp)), C.int(seq))
		}
	})
	if err != nil {
		g.stats.Malformed++
	}
	g.flush()
}

// flush frames and sends what spandsp queued. g.mu is held.
func (g *Gateway) flush() {
	q := &g.g.q
	for i := range int(q.n) {
		ifp := unsafe.Slice((*byte)(unsafe.Pointer(&q.buf[i][0])), int(q.len[i]))
		for range max(1, int(q.count[i])) {
			g.send(g.enc.Encode(ifp))
			g.stats.DatagramsOut++
		}
	}
	q.n = 0
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	if !g.closed {
		s.Pages = int(C.sb_gw_pages(g.g))
	}
	return s
}

// Close frees the gateway; Audio and ReceiveUDPTL do nothing after it.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.stats.Pages = int(C.sb_gw_pages(g.g))
	g.closed = true
	C.sb_gw_free(g.g)
	C.free(unsafe.Pointer(g.in))
}
