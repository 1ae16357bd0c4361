package rtcpstats

import "time"

// RFC 3550 §6.2 and A.7 constants.
const (
	// MinInterval is RTCP_MIN_TIME, the minimum deterministic interval
	// between reports (RFC 3550 §6.2); the first report uses half of it.
	MinInterval = 5 * time.Second
	// senderFraction is RTCP_SENDER_BW_FRACTION: the share of the RTCP
	// bandwidth for senders when they are at most a quarter of members.
	senderFraction = 0.25
	// compensation is e - 3/2: timer reconsideration converges to a
	// bandwidth below the target, which dividing by it corrects
	// (RFC 3550 §6.3.1).
	compensation = 2.71828 - 1.5
	// DefaultRTCPBandwidth is the RTCP bandwidth in octets per second
	// assumed without b=RS/RR: 5 % (RFC 3550 §6.2) of a 64 kbit/s session.
	DefaultRTCPBandwidth = 0.05 * 64000 / 8
)

// IntervalParams are the inputs of RFC 3550 A.7's rtcp_interval.
type IntervalParams struct {
	// Members and Senders count the session's participants (us included).
	Members, Senders int
	// Bandwidth is the RTCP bandwidth in octets per second
	// (DefaultRTCPBandwidth when 0).
	Bandwidth float64
	// WeSent tells that we sent RTP since the report before last.
	WeSent bool
	// AvgSize is the average compound RTCP size in octets, lower-layer
	// headers included (§6.3.3).
	AvgSize float64
	// Initial is set for the first report, which waits half the minimum
	// (§6.2).
	Initial bool
	// Min is the minimum interval (MinInterval when 0).
	Min time.Duration
}

// Interval is rtcp_interval of RFC 3550 A.7: the deterministic interval
// from the bandwidth share of our group, at least the minimum (halved for
// the first report), randomised by rnd (uniform in [0, 1)) to between 0.5
// and 1.5 times and divided by e - 3/2 (§6.3.1).
func Interval(p IntervalParams, rnd float64) time.Duration {
	tmin := p.Min
	if tmin <= 0 {
		tmin = MinInterval
	}
	if p.Initial {
		tmin /= 2
	}
	bw := p.Bandwidth
	if bw <= 0 {
		bw = DefaultRTCPBandwidth
	}
	n := p.Members
	if float64(p.Senders) <= float64(p.Members)*senderFraction {
		if p.WeSent {
			bw *= senderFraction
			n = p.Senders
		} else {
			bw *= 1 - senderFraction
			n -= p.Senders
		}
	}
	t := time.Duration(p.AvgSize * float64(max(n, 1)) / bw * float64(time.Second))
	t = max(t, tmin)
	return time.Duration(float64(t) * (rnd + 0.5) / compensation)
}

// AvgSize updates the average compound RTCP size with one packet of size
// octets (RFC 3550 §6.3.3: avg = size/16 + avg·15/16).
func AvgSize(avg float64, size int) float64 {
	if avg == 0 {
		return float64(size)
	}
	return float64(size)/16 + avg*15/16
}
