package faxgw

import (
	"errors"
)

// UDPTL framing (ITU-T T.38 clause 9.1, Annex D transport): each datagram
// is a UDPTLPacket in ASN.1 aligned PER,
//
//	seq-number          2 octets, big endian
//	primary-ifp-packet  open type: length determinant, IFP octets
//	error-recovery      CHOICE, one octet: 0x00 secondary-ifp-packets
//	                    (a count, then that many open types: the packets
//	                    seq-1, seq-2, … again), 0x80 fec-info
//
// A UDPTL stream with no error correction sends an empty list of
// secondary packets; with t38UDPRedundancy it repeats the last few IFP
// packets in each datagram, so a lost datagram is recovered from the next.
// Forward error correction (t38UDPFEC) is read for its primary packet only
// and never sent: the SDP answer offers redundancy instead (T.38 D.2.3).

// MaxIFP is the largest IFP packet the framing carries.
const MaxIFP = 512

// ErrUDPTL is returned for a datagram that is not a UDPTLPacket.
var ErrUDPTL = errors.New("faxgw: malformed UDPTL packet")

// Encoder frames IFP packets into UDPTL datagrams, with the given number
// of redundant secondary packets (0: no error correction).
type Encoder struct {
	redundancy int
	seq        uint16
	// hist holds the last packets sent, newest at hist[(n-1)%len].
	hist [8][]byte
	n    int
	buf  []byte
}

// NewEncoder returns an Encoder repeating up to redundancy (at most 8)
// earlier IFP packets in each datagram.
func NewEncoder(redundancy int) *Encoder {
	e := &Encoder{redundancy: min(max(redundancy, 0), 8), buf: make([]byte, 0, 2+3*(MaxIFP+2)*4)}
	for i := range e.hist {
		e.hist[i] = make([]byte, 0, MaxIFP)
	}
	return e
}

// Encode frames ifp (at most MaxIFP octets) as the next datagram; the
// result is valid until the next call.
func (e *Encoder) Encode(ifp []byte) []byte {
	ifp = ifp[:min(len(ifp), MaxIFP)]
	b := append(e.buf[:0], byte(e.seq>>8), byte(e.seq))
	b = appendOpen(b, ifp)
	b = append(b, 0x00) // secondary-ifp-packets
	k := min(e.redundancy, e.n)
	b = appendLength(b, k)
	for i := range k {
		b = appendOpen(b, e.hist[(e.n-1-i)%len(e.hist)])
	}
	slot := e.n % len(e.hist)
	e.hist[slot] = append(e.hist[slot][:0], ifp...)
	e.n++
	e.seq++
	e.buf = b
	return b
}

// appendLength writes a PER length determinant (X.691 10.9.3.6-7, lengths
// below 16384).
func appendLength(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	return append(b, 0x80|byte(n>>8), byte(n))
}

func appendOpen(b, p []byte) []byte { return append(appendLength(b, len(p)), p...) }

// readLength reads a length determinant at b[*i].
func readLength(b []byte, i *int) (int, bool) {
	if *i >= len(b) {
		return 0, false
	}
	c := b[*i]
	*i++
	switch {
	case c&0x80 == 0:
		return int(c), true
	case c&0xC0 == 0x80:
		if *i >= len(b) {
			return 0, false
		}
		n := int(c&0x3F)<<8 | int(b[*i])
		*i++
		return n, true
	}
	return 0, false // fragmented lengths: never in a UDPTL datagram
}

func readOpen(b []byte, i *int) ([]byte, bool) {
	n, ok := readLength(b, i)
	if !ok || *i+n > len(b) {
		return nil, false
	}
	p := b[*i : *i+n]
	*i += n
	return p, true
}

// Decoder turns received UDPTL datagrams back into the stream of IFP
// packets, in order: a packet seen before is dropped, and packets lost in
// between are taken from the redundant secondaries when the datagram has
// them.
type Decoder struct {
	next    uint16 // the sequence number expected next
	started bool
}

// Decode hands each IFP packet the datagram carries, not seen before,
// to fn in sequence order (recovered ones first); the slices alias pkt.
func (d *Decoder) Decode(pkt []byte, fn func(seq uint16, ifp []byte)) error {
	if len(pkt) < 3 {
		return ErrUDPTL
	}
	seq := uint16(pkt[0])<<8 | uint16(pkt[1])
	i := 2
	primary, ok := readOpen(pkt, &i)
	if !ok || i >= len(pkt) {
		return ErrUDPTL
	}
	if !d.started {
		d.started, d.next = true, seq
	}
	ahead := seq - d.next // modulo 2^16
	if ahead >= 0x8000 {
		return nil // an old or repeated datagram
	}
	var sec [16][]byte
	ns := 0
	if pkt[i]&0x80 == 0 { // secondary-ifp-packets
		i++
		n, ok := readLength(pkt, &i)
		if !ok {
			return ErrUDPTL
		}
		for k := 0; k < n; k++ {
			p, ok := readOpen(pkt, &i)
			if !ok {
				return ErrUDPTL
			}
			if ns < len(sec) {
				sec[ns] = p
				ns++
			}
		}
	}
	// sec[k] is packet seq-1-k: recover what was lost, oldest first.
	for s := d.next; s != seq; s++ {
		if k := int(seq - 1 - s); k < ns {
			fn(s, sec[k])
		}
	}
	fn(seq, primary)
	d.next = seq + 1
	return nil
}
