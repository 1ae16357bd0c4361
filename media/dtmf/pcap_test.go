package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	pionrtp "github.com/pion/rtp"

	"github.com/switchboard/switchboard/media/rtp"
)

// readPcapUDP returns the UDP payloads of a classic libpcap file holding
// Ethernet, Linux cooked or raw IPv4 frames. Written here because the
// format takes 60 lines to read, and gopacket, the Go pcap library, would
// bring a large packet-decoding framework into go.mod for one test.
func readPcapUDP(b []byte) ([][]byte, error) {
	if len(b) < 24 {
		return nil, errors.New("pcap: short global header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: bad magic %x", b[:4])
	}
	link := bo.Uint32(b[20:24])
	var out [][]byte
	for p := b[24:]; len(p) > 0; {
		if len(p) < 16 {
			return nil, errors.New("pcap: short record header")
		}
		n := int(bo.Uint32(p[8:12]))
		if len(p) < 16+n {
			return nil, errors.New("pcap: short record")
		}
		frame := p[16 : 16+n]
		p = p[16+n:]
		var ip []byte
		switch link {
		case 1: // Ethernet, possibly one VLAN tag
			if len(frame) < 14 {
				continue
			}
			et, off := binary.BigEndian.Uint16(frame[12:14]), 14
			if et == 0x8100 && len(frame) >= 18 {
				et, off = binary.BigEndian.Uint16(frame[16:18]), 18
			}
			if et != 0x0800 {
				continue
			}
			ip = frame[off:]
		case 113: // Linux cooked capture
			if len(frame) < 16 || binary.BigEndian.Uint16(frame[14:16]) != 0x0800 {
				continue
			}
			ip = frame[16:]
		case 101, 228: // raw IP, raw IPv4
			ip = frame
		default:
			return nil, fmt.Errorf("pcap: link type %d", link)
		}
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
			continue
		}
		ihl := int(ip[0]&0x0f) * 4
		if len(ip) < ihl+8 {
			continue
		}
		udp := ip[ihl:]
		ulen := int(binary.BigEndian.Uint16(udp[4:6]))
		if ulen < 8 || ulen > len(udp) {
			continue
		}
		out = append(out, udp[8:ulen])
	}
	return out, nil
}

// readPcapRTP returns the RTP packets of payload type pt in a pcap file.
func readPcapRTP(t *testing.T, path string, pt uint8) []pionrtp.Packet {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		skipOrFailInCI(t, "pcap not available: %v", err)
	}
	payloads, err := readPcapUDP(b)
	if err != nil {
		t.Fatal(err)
	}
	var pkts []pionrtp.Packet
	for _, u := range payloads {
		var p pionrtp.Packet
		if err := p.Unmarshal(u); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if p.PayloadType == pt {
			pkts = append(pkts, p)
		}
	}
	return pkts
}

// TestSippDTMFPcaps reads sipp's RFC 2833/4733 captures (Debian package
// sip-tester) and checks both the capture's pattern, as documented, and
// that the Receiver reports each file's key once with duration 2240.
func TestSippDTMFPcaps(t *testing.T) {
	const dir = "/usr/share/sip-tester"
	files, _ := filepath.Glob(filepath.Join(dir, "dtmf_2833_*.pcap"))
	if len(files) == 0 {
		skipOrFailInCI(t, "no sipp DTMF captures in %s", dir)
	}
	for _, path := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "dtmf_2833_"), ".pcap")
		key := map[string]byte{"star": '*', "pound": '#'}[name]
		if key == 0 {
			key = name[0]
		}
		code, _ := KeyToCode(key)
		t.Run(name, func(t *testing.T) {
			pkts := readPcapRTP(t, path, 101)
			if len(pkts) != 10 {
				t.Fatalf("%d telephone-event packets, want 10", len(pkts))
			}
			var durs []uint16
			ends := 0
			for i, p := range pkts {
				var ev Event
				if err := ev.Unmarshal(p.Payload); err != nil {
					t.Fatal(err)
				}
				if ev.Code != code || p.Timestamp != pkts[0].Timestamp || p.Marker != (i == 0) {
					t.Fatalf("packet %d: marker %v ts %d event %+v", i, p.Marker, p.Timestamp, ev)
				}
				if ev.End {
					ends++
				}
				durs = append(durs, ev.Duration)
			}
			want := []uint16{0, 320, 640, 960, 1280, 1600, 1920, 2240, 2240, 2240}
			if !reflect.DeepEqual(durs, want) || ends != 3 {
				t.Fatalf("durations %v with %d ends, want %v with 3", durs, ends, want)
			}
			r := NewReceiver()
			var got []Report
			for _, p := range pkts {
				reps, err := r.Push(rtp.Header{Seq: p.SequenceNumber, TS: p.Timestamp}, p.Payload)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, reps...)
			}
			got = append(got, r.Flush()...)
			wantReps := []Report{
				{Edge: Press, Code: code, Key: key, Timestamp: pkts[0].Timestamp, Duration: 0, Volume: 10},
				{Edge: Release, Code: code, Key: key, Timestamp: pkts[0].Timestamp, Duration: 2240, Volume: 10},
			}
			if !reflect.DeepEqual(got, wantReps) {
				t.Fatalf("reports %+v, want %+v", got, wantReps)
			}
		})
	}
}

func TestReadPcapUDPErrors(t *testing.T) {
	for _, b := range [][]byte{nil, make([]byte, 23), make([]byte, 24)} {
		if _, err := readPcapUDP(b); err == nil {
			t.Errorf("readPcapUDP(%x) succeeded", b)
		}
	}
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	if _, err := readPcapUDP(append(hdr, 1, 2, 3)); err == nil {
		t.Error("truncated record header accepted")
	}
	if _, err := readPcapUDP(append(hdr, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 1)); err == nil {
		t.Error("truncated record accepted")
	}
	if p, err := readPcapUDP(hdr); err != nil || len(p) != 0 {
		t.Errorf("empty capture: %v, %v", p, err)
	}
}

// skipOrFailInCI skips a test whose input (shared corpus, a peer's data
// files) is missing on a developer machine; under CI a missing input is a
// failure, never a silent skip.
func skipOrFailInCI(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("required under CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
