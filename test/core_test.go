package test

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// trunkSetup is a Switchboard with user 1000 and a trunk (a sipp UAS on
// 127.0.0.2) reached by dialling 9 + number.
func trunkSetup(t *testing.T, uasPort int, o SBOptions) *SB {
	o.Users = append(o.Users, "1000", "1001")
	o.Trunks = fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]%s}`, uasPort, o.TrunkExtra)
	o.Routes = `  - {match: '^1\d{3}$', to: user}
  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}
  - {match: '^0', to: reject, status: 403}`
	return startSB(t, o)
}

// TestSippLoadThroughTrunk: 200 authenticated calls at 20 calls/s, each
// playing 7 s of PCMA, through Switchboard to a trunk that echoes RTP. The
// callee side checks that nothing of the caller's topology leaks and that
// the SDP carries Switchboard's address; the echoed RTP proves media flowed
// through Switchboard's ports both ways.
func TestSippLoadThroughTrunk(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	// ~150 calls up at once, 4 ports each, plus quarantine: a large range.
	sb := trunkSetup(t, uasPort, SBOptions{MediaPorts: "50000-54999"})
	startSipp(t, dir, "-sf", scenario(t, "uas_trunk_echo.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-rtp_echo")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	const calls = 200
	r := runSipp(t, dir, 3*time.Minute, "-sf", scenario(t, "uac_auth_pcap.xml"), sb.Addr(),
		"-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
		"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"],
		"-r", "20", "-m", strconv.Itoa(calls), "-l", "300")
	if r.Stats.Successful != calls || r.Stats.Failed != 0 || r.Err != nil {
		t.Fatalf("sipp: %d successful, %d failed, err %v\n%s", r.Stats.Successful, r.Stats.Failed, r.Err, tail(r.Out, 3000))
	}
	recs := sb.WaitCDRs(calls, 10*time.Second)
	if len(recs) != calls {
		t.Fatalf("%d CDRs, want %d", len(recs), calls)
	}
	for _, c := range recs {
		if c.Disposition != "answered" || c.Status != 200 || c.Trunk != "carrier" || c.Dialled != "95551234" {
			t.Errorf("CDR %+v", c)
		}
		// g711a.pcap is 236 packets; some may land before latching or after BYE.
		if c.AToBPackets < 200 || c.BToAPackets < 150 {
			t.Errorf("call %s: %d packets caller→callee, %d echoed back: media did not flow through Switchboard", c.CallID, c.AToBPackets, c.BToAPackets)
		}
		if c.CodecA != "PCMA" || c.CodecB != "PCMA" {
			t.Errorf("call %s codecs %s/%s", c.CallID, c.CodecA, c.CodecB)
		}
	}
}
