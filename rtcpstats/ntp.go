package rtcpstats

import "time"

// ntpEpochOffset is the number of seconds from the NTP epoch (1900-01-01)
// to the Unix epoch (1970-01-01), RFC 5905 §6.
const ntpEpochOffset = 2208988800

// NTPTime converts a wall-clock time to a 64-bit NTP timestamp
// (RFC 3550 §4: 32 bits of seconds since 1900, 32 bits of fraction).
func NTPTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := (uint64(t.Nanosecond()) << 32) / 1e9
	return secs<<32 | frac
}

// NTPToTime converts a 64-bit NTP timestamp back to a wall-clock time
// (the inverse of NTPTime, to within one nanosecond).
func NTPToTime(ntp uint64) time.Time {
	secs := int64(ntp>>32) - ntpEpochOffset
	nsec := ((ntp & 0xFFFFFFFF) * 1e9) >> 32
	return time.Unix(secs, int64(nsec))
}

// ntpMiddle returns the middle 32 bits of a 64-bit NTP timestamp, the
// "compact" form carried as LSR in report blocks (RFC 3550 §6.4.1) and as
// LRR in DLRR sub-blocks (RFC 3611 §4.5).
func ntpMiddle(ntp uint64) uint32 {
	return uint32(ntp >> 16)
}

// toNTPShort converts a duration to units of 1/65536 s (the DLSR and DLRR
// unit, RFC 3550 §6.4.1, RFC 3611 §4.5), saturating at the field's range
// and clamping negative durations to 0.
func toNTPShort(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	// d * 65536 / 1e9 without overflowing for durations up to ~18 hours.
	secs := uint64(d / time.Second)
	rem := uint64(d % time.Second)
	v := secs<<16 + (rem<<16)/1e9
	if v > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(v)
}

// fromNTPShort converts units of 1/65536 s to a duration.
func fromNTPShort(v uint32) time.Duration {
	secs := time.Duration(v>>16) * time.Second
	frac := time.Duration((uint64(v&0xFFFF) * 1e9) >> 16)
	return secs + frac
}

// rttFromLSR computes the round-trip time of RFC 3550 §6.4.1 from the
// compact NTP arrival time A, the echoed LSR and the peer's DLSR, all in
// 1/65536 s: RTT = A - LSR - DLSR. The same formula serves RFC 3611 §4.5
// with LRR and DLRR. It reports false when no timestamp was echoed (LSR 0)
// or when the result is negative (clocks stepped, or a forged report).
func rttFromLSR(arrival time.Time, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	a := ntpMiddle(NTPTime(arrival))
	rtt := a - lsr - dlsr // modulo 2^32, as the RFC's arithmetic is
	if int32(rtt) < 0 {
		return 0, false
	}
	return fromNTPShort(rtt), true
}
