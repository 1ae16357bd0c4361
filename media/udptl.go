package media

import (
	"net/netip"
)

// UDPTL streams (T.38 fax, ITU-T T.38 Annex D; RFC 3362 for the SDP
// media type image/t38). A fax switched to T.38 by re-INVITE is carried
// as UDPTL datagrams, not RTP: a DatagramRelay takes over both endpoints
// of the stream and copies each datagram from one peer to the other as it
// is (the UDPTL sequence numbers and redundancy are end to end), with the
// same latching and counters as RTP:
//
//	peer A ─UDPTL─► Endpoint a ─ receive: latch, count ─► Endpoint b ─► peer B
//	peer A ◄────── Endpoint a ◄─ (the same, reversed) ─── Endpoint b ◄─ peer B
//
// No RTP parse, no SRTP, no RTCP: a UDPTL stream has none (T.38 Annex D).

// DatagramRelay relays the datagrams of two endpoints between them.
type DatagramRelay struct {
	a, b   *Endpoint
	ab, ba datagramRelay
}

// datagramRelay is one direction, installed on the receiving endpoint.
type datagramRelay struct {
	to *Endpoint
}

// NewDatagramRelay prepares the relay of a's and b's datagrams; nothing
// is relayed before Start.
func NewDatagramRelay(a, b *Endpoint) *DatagramRelay {
	r := &DatagramRelay{a: a, b: b}
	r.ab.to, r.ba.to = b, a
	return r
}

// Start makes both endpoints hand every datagram to the relay instead of
// their RTP path.
func (r *DatagramRelay) Start() {
	r.a.datagrams.Store(&r.ab)
	r.b.datagrams.Store(&r.ba)
}

// Stop gives both endpoints back to their RTP path.
func (r *DatagramRelay) Stop() {
	r.a.datagrams.CompareAndSwap(&r.ab, nil)
	r.b.datagrams.CompareAndSwap(&r.ba, nil)
}

// receive takes one datagram on from's reactor goroutine: latch (the
// UDPTL peer is where the SDP said, or where it sends from, as for RTP),
// count, send out of the other endpoint.
func (d *datagramRelay) receive(from *Endpoint, pkt []byte, src netip.AddrPort, now int64) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if len(pkt) == 0 || !from.admit(src, true) {
		from.stats.rejected.Add(1)
		return
	}
	from.stats.packetsIn.Add(1)
	from.stats.bytesIn.Add(uint64(len(pkt)))
	from.lastRx.Store(now)
	to := d.to
	if to.closed.Load() {
		return
	}
	dst, ok := to.destination()
	if !ok {
		to.stats.noDest.Add(1)
		return
	}
	n, err := to.rtp.sendTo(pkt, dst)
	if err != nil {
		to.stats.sendErrors.Add(1)
		return
	}
	to.stats.packetsOut.Add(1)
	to.stats.bytesOut.Add(uint64(n))
}
