package rtp

import "encoding/binary"

// FixedHeaderSize is the length of the RTP fixed header (RFC 3550 §5.1).
const FixedHeaderSize = 12

// Header holds the fields of an RTP fixed header (RFC 3550 §5.1) that
// Switchboard's media stages read, and where the payload lies.
type Header struct {
	Marker bool
	PT     uint8
	Seq    uint16
	TS     uint32
	SSRC   uint32
	// Size is the header length in bytes: 12 + 4*CC + extension
	// (RFC 3550 §5.3.1).
	Size int
	// Pad is the number of padding octets at the end of the packet (P bit,
	// RFC 3550 §5.1), 0 without padding.
	Pad int
}

// Parse validates pkt as an RTP packet and returns its header. It applies
// the checks of RFC 3550 A.1 that need no per-source state: version 2, a
// payload type that is not RTCP SR/RR (RFC 5761 §4: 72-76 collide with
// RTCP packet types 200-204), and a CSRC list, header extension and
// padding that fit inside the packet. It does not allocate.
func Parse(pkt []byte) (h Header, ok bool) {
	if len(pkt) < FixedHeaderSize {
		return h, false
	}
	b0 := pkt[0]
	if b0>>6 != 2 { // RFC 3550 §5.1: V=2
		return h, false
	}
	h.Marker = pkt[1]&0x80 != 0
	h.PT = pkt[1] & 0x7f
	if h.PT >= 72 && h.PT <= 76 { // RFC 5761 §4
		return h, false
	}
	h.Seq = binary.BigEndian.Uint16(pkt[2:])
	h.TS = binary.BigEndian.Uint32(pkt[4:])
	h.SSRC = binary.BigEndian.Uint32(pkt[8:])
	size := FixedHeaderSize + 4*int(b0&0x0f)
	if b0&0x10 != 0 { // X bit: RFC 3550 §5.3.1 extension header
		if len(pkt) < size+4 {
			return h, false
		}
		size += 4 + 4*int(binary.BigEndian.Uint16(pkt[size+2:]))
	}
	if len(pkt) < size {
		return h, false
	}
	if b0&0x20 != 0 { // P bit: last octet counts padding, itself included
		pad := int(pkt[len(pkt)-1])
		if pad == 0 || size+pad > len(pkt) {
			return h, false
		}
		h.Pad = pad
	}
	h.Size = size
	return h, true
}

// Payload returns the payload of pkt, whose header is h: what lies between
// the header and the padding.
func (h *Header) Payload(pkt []byte) []byte { return pkt[h.Size : len(pkt)-h.Pad] }

// PutFixed writes a 12-byte fixed header (no CSRC, no extension, no
// padding) for h into dst, which must hold FixedHeaderSize bytes, and
// returns FixedHeaderSize. It is how a stage that builds packets
// (packetizer, DTMF sender, comfort noise) starts one.
func (h *Header) PutFixed(dst []byte) int {
	_ = dst[FixedHeaderSize-1]
	dst[0] = 2 << 6
	dst[1] = h.PT & 0x7f
	if h.Marker {
		dst[1] |= 0x80
	}
	binary.BigEndian.PutUint16(dst[2:], h.Seq)
	binary.BigEndian.PutUint32(dst[4:], h.TS)
	binary.BigEndian.PutUint32(dst[8:], h.SSRC)
	return FixedHeaderSize
}
