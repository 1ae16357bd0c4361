package rtcpstats

import (
	"encoding/binary"
	"testing"

	"github.com/pion/rtcp"

	"github.com/switchboard/switchboard/media/rtp"
)

// maxDatagram bounds fuzz inputs to a jumbo-ish datagram.
const maxDatagram = 4096

// seedCompounds returns real compound packets: SR, RR with XR, and BYE.
func seedCompounds(tb testing.TB) [][]byte {
	tb.Helper()
	a, b := newPair(true)
	sendRTP(a, b, 0, 50, t0, map[uint16]bool{10: true, 11: true})
	sendRTP(b, a, 0, 5, t0, nil)
	var out [][]byte
	for _, s := range []*Session{a, b} {
		buf, err := s.AppendReport(nil, at(1000))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf)
	}
	rrOnly := NewSession(Config{SSRC: 9, CNAME: "c", XR: true, MinSequential: 1})
	sendRTP(a, rrOnly, 0, 3, t0, nil)
	buf, err := rrOnly.AppendBye(nil, at(2000), "bye")
	if err != nil {
		tb.Fatal(err)
	}
	return append(out, buf)
}

// FuzzHandleRTCP feeds arbitrary datagrams to the compound RTCP parse
// path; it must never panic, and the session must stay usable.
func FuzzHandleRTCP(f *testing.F) {
	for _, s := range seedCompounds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0xAA, 0xAA, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxDatagram {
			return // RTCP arrives in UDP datagrams; keep executions fast
		}
		s := NewSession(Config{SSRC: ssrcA, CNAME: "a", XR: true, MinSequential: 1})
		s.OnRTP(rtp.Header{SSRC: ssrcB, Seq: 1, TS: 160}, 160, t0)
		_ = s.HandleRTCP(data, at(100))
		_ = s.Snapshot()
		if _, err := s.AppendReport(nil, at(200)); err != nil {
			t.Fatalf("report after fuzzed input: %v", err)
		}
	})
}

// FuzzXR wraps arbitrary bytes as the report blocks of one XR packet, so
// the fuzzer reaches the block parsers (RFC 3611 §3: header, SSRC, blocks)
// and our handling of every block type.
func FuzzXR(f *testing.F) {
	voip := VoIPMetrics{SSRC: ssrcA, Gmin: 16, MOSCQ: 4.1, RFactor: 80}.Block()
	ss := rtcp.StatisticsSummaryReportBlock{SSRC: ssrcA, LossReports: true}
	seeds := []rtcp.ReportBlock{
		RRTRBlock(t0),
		&rtcp.DLRRReportBlock{Reports: []rtcp.DLRRReport{{SSRC: ssrcA, LastRR: 1, DLRR: 2}}},
		&ss,
		voip,
	}
	for _, blk := range seeds {
		x := rtcp.ExtendedReport{SenderSSRC: ssrcB, Reports: []rtcp.ReportBlock{blk}}
		buf, err := x.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf[8:])
	}
	f.Add([]byte{7, 0, 0, 8})
	f.Add([]byte{5, 0, 0, 0xFF, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, blocks []byte) {
		if len(blocks) > maxDatagram {
			return // RTCP arrives in UDP datagrams; keep executions fast
		}
		body := make([]byte, 8+(len(blocks)+3)/4*4)
		copy(body[8:], blocks)
		body[0] = 0x80
		body[1] = byte(rtcp.TypeExtendedReport)
		binary.BigEndian.PutUint16(body[2:], uint16(len(body)/4-1))
		binary.BigEndian.PutUint32(body[4:], ssrcB)

		var x rtcp.ExtendedReport
		if err := x.Unmarshal(body); err == nil {
			for _, blk := range x.Reports {
				if v, ok := blk.(*rtcp.VoIPMetricsReportBlock); ok {
					_ = VoIPMetricsFromBlock(v).Block()
				}
			}
		}
		s := NewSession(Config{SSRC: ssrcA, CNAME: "a", XR: true, MinSequential: 1})
		_ = s.HandleRTCP(body, at(100))
		_ = s.Snapshot()
		if _, err := s.AppendReport(nil, at(200)); err != nil {
			t.Fatalf("report after fuzzed XR: %v", err)
		}
		_, _ = s.RTT()
	})
}
