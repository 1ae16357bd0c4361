package media

import "github.com/switchboard/switchboard/rtcpstats"

// Quality returns the endpoint's entry of the call's quality record, named
// leg ("a", "b"). With RTCP enabled (SetRTCP) it is the leg's full
// statistics: Switchboard's own receive measurement rated by the E-model,
// the far end's view from its RTCP, RTT and RTCP counts. Without it only
// the packet counts are known. It may be called at any time, also after
// Close.
func (ep *Endpoint) Quality(leg string) rtcpstats.LegQuality {
	var q rtcpstats.LegQuality
	if l := ep.rtcp.Load(); l != nil {
		q = l.sess.LegQuality(leg)
		q.RTCPSent = l.sent.Load()
		q.RTCPReceived = l.received.Load()
		q.RTCPErrors = l.errors.Load()
		q.RTCPRejected = l.rejected.Load()
	} else {
		st := ep.Stats()
		q = rtcpstats.LegQuality{
			Leg:      leg,
			Received: rtcpstats.ReceivedQuality{Packets: st.PacketsIn},
			Sent:     rtcpstats.SentQuality{Packets: st.PacketsOut},
		}
	}
	q.LocalAddr = ep.local.String()
	if r, ok := ep.Remote(); ok {
		q.RemoteAddr = r.String()
	}
	return q
}

// CallQuality returns the quality record of a call between endpoint a
// (the caller's leg) and b (the callee's); either may be nil when that leg
// had no media.
func CallQuality(a, b *Endpoint) rtcpstats.CallQuality {
	var q rtcpstats.CallQuality
	for i, ep := range []*Endpoint{a, b} {
		if ep != nil {
			q.Legs = append(q.Legs, ep.Quality(string(rune('a'+i))))
		}
	}
	return q
}
