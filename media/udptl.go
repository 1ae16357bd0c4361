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

// datagramRelay is one direction, installed on the receiving endpoint:
// it sends each datagram out of to, or hands it to sink (a fax gateway's
// T.38 side, ReceiveDatagrams).
type datagramRelay struct {
	to   *Endpoint
	sink func(pkt []byte)
}

// ReceiveDatagrams makes ep hand every datagram of its RTP socket,
// latched and counted, to sink on its reactor goroutine (no RTP parse),
// until StopDatagrams: the T.38 leg of a fax gateway (media/faxgw). sink
// must not block or keep pkt.
func (ep *Endpoint) ReceiveDatagrams(sink func(pkt []byte)) {
	ep.datagrams.Store(&datagramRelay{sink: sink})
}

// StopDatagrams gives ep back to its RTP path.
func (ep *Endpoint) StopDatagrams() { ep.datagrams.Store(nil) }

// WriteDatagram sends pkt as it is to ep's remote (latched or from SDP),
// counted as RTP is.
func (ep *Endpoint) WriteDatagram(pkt []byte) {
	if ep.closed.Load() {
		return
	}
	dst, ok := ep.destination()
	if !ok {
		ep.stats.noDest.Add(1)
		return
	}
	n, err := ep.rtp.sendTo(pkt, dst)
	if err != nil {
		ep.stats.sendErrors.Add(1)
		return
	}
	ep.stats.packetsOut.Add(1)
	ep.stats.bytesOut.Add(uint64(n))
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
	if d.sink != nil {
		d.sink(pkt)
		return
	}
	d.to.WriteDatagram(pkt)
}
