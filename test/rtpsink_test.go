package test

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// rtpSink is a callee's media port owned by the test: a UDP socket on
// 127.0.0.2 (Port is what the callee's SDP names, via sipp's
// -key rxport) that records every RTP packet Switchboard sends to it.
type rtpSink struct {
	Port int
	conn *net.UDPConn
	pkts chan sunkRTP
}

// sunkRTP is one packet the sink received.
type sunkRTP struct {
	at      time.Time
	pt      uint8
	marker  bool
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte
}

func newRTPSink(t testing.TB) *rtpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	s := &rtpSink{Port: conn.LocalAddr().(*net.UDPAddr).Port, conn: conn, pkts: make(chan sunkRTP, 8192)}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(s.pkts)
				return
			}
			if n < 12 || buf[0]>>6 != 2 {
				continue
			}
			s.pkts <- sunkRTP{at: time.Now(), pt: buf[1] & 0x7f, marker: buf[1]&0x80 != 0,
				seq: binary.BigEndian.Uint16(buf[2:]), ts: binary.BigEndian.Uint32(buf[4:]),
				ssrc: binary.BigEndian.Uint32(buf[8:]), payload: append([]byte(nil), buf[12:n]...)}
		}
	}()
	return s
}

// Drain returns what arrived so far and whatever arrives until the
// stream has been quiet for quiet.
func (s *rtpSink) Drain(quiet time.Duration) []sunkRTP {
	var got []sunkRTP
	for {
		select {
		case p, ok := <-s.pkts:
			if !ok {
				return got
			}
			got = append(got, p)
		case <-time.After(quiet):
			return got
		}
	}
}
