package hep

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Chunk types of HEP v3 (generic vendor 0), from the specification rev. 36.
const (
	chunkIPFamily     = 0x0001
	chunkIPProto      = 0x0002
	chunkIPv4Src      = 0x0003
	chunkIPv4Dst      = 0x0004
	chunkIPv6Src      = 0x0005
	chunkIPv6Dst      = 0x0006
	chunkSrcPort      = 0x0007
	chunkDstPort      = 0x0008
	chunkTimeSec      = 0x0009
	chunkTimeUsec     = 0x000a
	chunkProtoType    = 0x000b
	chunkAgentID      = 0x000c
	chunkAuthKey      = 0x000e
	chunkPayload      = 0x000f
	chunkCorrelation  = 0x0011
	familyIPv4        = 2
	familyIPv6        = 10
	ipProtoUDP        = 17
	ipProtoTCP        = 6
	headerLen         = 6
	chunkHeaderLen    = 6
	maxPacket         = 65507
	hepMagic          = "HEP3"
	defaultCaptureTag = 0
)

// Payload types of the HEP protocol-type chunk (0x000b).
const (
	// ProtoSIP is a SIP message (the default).
	ProtoSIP = 1
	// ProtoRTCP is a raw RTCP compound packet, correlated with its call
	// by the Correlation chunk (the SIP Call-ID), as Homer takes RTCP
	// reports to show a call's quality beside its signaling.
	ProtoRTCP = 5
)

// Packet describes one captured message.
type Packet struct {
	// Proto is the payload's type (ProtoSIP when 0).
	Proto    uint8
	Src, Dst netip.AddrPort
	// TCP is set for stream transports (TCP, TLS, WS): the IP protocol
	// chunk then says TCP, else UDP.
	TCP  bool
	Time time.Time
	// Payload is the SIP message as sent or received.
	Payload []byte
	// Correlation, when set, links the packet to a call (e.g. its Call-ID).
	Correlation string
}

// Encode appends the HEP v3 packet for p to dst; agent is the capture
// agent id and key the collector's password (empty: none). It returns dst
// unchanged when the packet would not fit a UDP datagram.
func Encode(dst []byte, p *Packet, agent uint32, key string) []byte {
	start := len(dst)
	dst = append(dst, hepMagic...)
	dst = append(dst, 0, 0) // total length, filled below
	src, dstAddr := p.Src.Addr().Unmap(), p.Dst.Addr().Unmap()
	if src.Is4() && dstAddr.Is4() {
		dst = chunkU8(dst, chunkIPFamily, familyIPv4)
	} else {
		dst = chunkU8(dst, chunkIPFamily, familyIPv6)
	}
	proto := uint8(ipProtoUDP)
	if p.TCP {
		proto = ipProtoTCP
	}
	dst = chunkU8(dst, chunkIPProto, proto)
	if src.Is4() && dstAddr.Is4() {
		s4, d4 := src.As4(), dstAddr.As4()
		dst = chunkBytes(dst, chunkIPv4Src, s4[:])
		dst = chunkBytes(dst, chunkIPv4Dst, d4[:])
	} else {
		s16, d16 := p.Src.Addr().As16(), p.Dst.Addr().As16()
		dst = chunkBytes(dst, chunkIPv6Src, s16[:])
		dst = chunkBytes(dst, chunkIPv6Dst, d16[:])
	}
	dst = chunkU16(dst, chunkSrcPort, p.Src.Port())
	dst = chunkU16(dst, chunkDstPort, p.Dst.Port())
	dst = chunkU32(dst, chunkTimeSec, uint32(p.Time.Unix()))
	dst = chunkU32(dst, chunkTimeUsec, uint32(p.Time.Nanosecond()/1000))
	payloadType := p.Proto
	if payloadType == 0 {
		payloadType = ProtoSIP
	}
	dst = chunkU8(dst, chunkProtoType, payloadType)
	dst = chunkU32(dst, chunkAgentID, agent)
	if key != "" {
		dst = chunkBytes(dst, chunkAuthKey, []byte(key))
	}
	if p.Correlation != "" {
		dst = chunkBytes(dst, chunkCorrelation, []byte(p.Correlation))
	}
	dst = chunkBytes(dst, chunkPayload, p.Payload)
	n := len(dst) - start
	if n > maxPacket {
		return dst[:start]
	}
	binary.BigEndian.PutUint16(dst[start+4:], uint16(n))
	return dst
}

func chunkHeader(dst []byte, typ uint16, payloadLen int) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(dst, 0), typ), uint16(chunkHeaderLen+payloadLen))
}

func chunkU8(dst []byte, typ uint16, v uint8) []byte {
	return append(chunkHeader(dst, typ, 1), v)
}

func chunkU16(dst []byte, typ uint16, v uint16) []byte {
	return binary.BigEndian.AppendUint16(chunkHeader(dst, typ, 2), v)
}

func chunkU32(dst []byte, typ uint16, v uint32) []byte {
	return binary.BigEndian.AppendUint32(chunkHeader(dst, typ, 4), v)
}

func chunkBytes(dst []byte, typ uint16, b []byte) []byte {
	if len(b) > maxPacket {
		b = b[:maxPacket] // Encode drops the oversized packet
	}
	return append(chunkHeader(dst, typ, len(b)), b...)
}
