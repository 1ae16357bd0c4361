package cause

// This file is the project's one cause table: every Q.850 cause value with
// its name and the SIP status it maps to, and every SIP status with the
// Q.850 cause it maps to. Nothing else in Switchboard may hold a copy; ask
// ToSIP, FromSIP, Name or an Overrides.

// Source says where a mapping comes from.
type Source uint8

// The sources of a mapping.
const (
	// SourceNone marks a value that has no row in either table.
	SourceNone Source = iota
	// SourceRFC3398 marks a row of RFC 3398 §7.2.4.1 (Q.850 → SIP) or
	// §8.2.6.1 (SIP → Q.850), copied as published.
	SourceRFC3398
	// SourceErratum marks a row of RFC 3398 that is corrected here; the
	// row's note says what the RFC prints and why it is changed.
	SourceErratum
	// SourceChoice marks a mapping the RFC leaves open (it says "no
	// mapping", defers to another header, or does not list the value)
	// and this package decides; the row's note gives the reason.
	SourceChoice
	// SourceDefault marks a value without a row, mapped by the default:
	// for a Q.850 cause the default of its class, for a SIP status RFC
	// 3398 §8.2.6.1's 31 "Normal, unspecified".
	SourceDefault
)

// String returns the source's name as written in CDRs and logs.
func (s Source) String() string {
	switch s {
	case SourceRFC3398:
		return "rfc3398"
	case SourceErratum:
		return "rfc3398-erratum"
	case SourceChoice:
		return "choice"
	case SourceDefault:
		return "default"
	}
	return "none"
}

// q850Row is one Q.850 cause value: its ITU-T Q.850 name and the SIP
// status of a call that fails with it (0: none listed, the class default
// applies).
type q850Row struct {
	name   string
	status int
	src    Source
	note   string
}

// MaxCause is the largest Q.850 cause value: the cause value is a 7-bit
// field (ITU-T Q.850 §2.2.5).
const MaxCause = 127

// q850Causes lists every cause value ITU-T Q.850 (05/1998 and its
// amendments) defines, indexed by value, with the SIP status RFC 3398
// §7.2.4.1 maps it to. Values without a status there take the default of
// their class (classDefault). Index 0 and the gaps are not defined causes.
var q850Causes = [MaxCause + 1]q850Row{
	// Class 000 and 001: normal event.
	1:  {"Unallocated (unassigned) number", 404, SourceRFC3398, ""},
	2:  {"No route to specified transit network", 404, SourceRFC3398, ""},
	3:  {"No route to destination", 404, SourceRFC3398, ""},
	4:  {"Send special information tone", 0, SourceNone, ""},
	5:  {"Misdialled trunk prefix", 0, SourceNone, ""},
	6:  {"Channel unacceptable", 0, SourceNone, ""},
	7:  {"Call awarded and being delivered in an established channel", 0, SourceNone, ""},
	8:  {"Preemption", 0, SourceNone, ""},
	9:  {"Preemption - circuit reserved for reuse", 0, SourceNone, ""},
	14: {"QoR: ported number", 0, SourceNone, ""},
	16: {"Normal call clearing", 0, SourceChoice,
		"RFC 3398 maps 16 to no response: it usually ends a call as BYE or CANCEL; a call that fails before answer with 16 gets the normal class default, 480"},
	17: {"User busy", 486, SourceRFC3398, ""},
	18: {"No user responding", 408, SourceRFC3398, ""},
	19: {"No answer from user (user alerted)", 480, SourceRFC3398, ""},
	20: {"Subscriber absent", 480, SourceRFC3398, ""},
	21: {"Call rejected", 403, SourceRFC3398,
		"RFC 3398: 603 may be given instead when the cause location is 'user'; the Reason header carries no location, so 403 (an Overrides entry can choose 603)"},
	22: {"Number changed", 410, SourceRFC3398,
		"RFC 3398: 301 when the REL carries the new number as a diagnostic; a Reason header cannot, so 410"},
	23: {"Redirection to new destination", 410, SourceRFC3398, ""},
	25: {"Exchange routing error", 0, SourceNone, ""},
	26: {"Non-selected user clearing", 404, SourceRFC3398, "RFC 3398 marks this row as the ANSI procedure"},
	27: {"Destination out of order", 502, SourceRFC3398, ""},
	28: {"Invalid number format (address incomplete)", 484, SourceRFC3398, ""},
	29: {"Facility rejected", 501, SourceErratum,
		"RFC 3398 prints 510, which RFC 3261 does not define; the row's own text is 'Not implemented', so 501"},
	30: {"Response to STATUS ENQUIRY", 0, SourceNone, ""},
	31: {"Normal, unspecified", 480, SourceRFC3398, ""},

	// Class 010: resource unavailable.
	34: {"No circuit/channel available", 503, SourceRFC3398, ""},
	38: {"Network out of order", 503, SourceRFC3398, ""},
	39: {"Permanent frame mode connection out of service", 0, SourceNone, ""},
	40: {"Permanent frame mode connection operational", 0, SourceNone, ""},
	41: {"Temporary failure", 503, SourceRFC3398, ""},
	42: {"Switching equipment congestion", 503, SourceRFC3398, ""},
	43: {"Access information discarded", 0, SourceNone, ""},
	44: {"Requested circuit/channel not available", 0, SourceNone, ""},
	46: {"Precedence call blocked", 0, SourceNone, ""},
	47: {"Resource unavailable, unspecified", 503, SourceRFC3398, ""},

	// Class 011: service or option not available.
	49: {"Quality of Service not available", 0, SourceNone, ""},
	50: {"Requested facility not subscribed", 0, SourceNone, ""},
	53: {"Outgoing calls barred within CUG", 0, SourceNone, ""},
	55: {"Incoming calls barred within CUG", 403, SourceRFC3398, ""},
	57: {"Bearer capability not authorized", 403, SourceRFC3398, ""},
	58: {"Bearer capability not presently available", 503, SourceRFC3398, ""},
	62: {"Inconsistency in designated outgoing access information and subscriber class", 0, SourceNone, ""},
	63: {"Service or option not available, unspecified", 0, SourceNone, ""},

	// Class 100: service or option not implemented.
	65: {"Bearer capability not implemented", 488, SourceRFC3398, ""},
	66: {"Channel type not implemented", 0, SourceNone, ""},
	69: {"Requested facility not implemented", 0, SourceNone, ""},
	70: {"Only restricted digital information bearer capability is available", 488, SourceRFC3398, ""},
	79: {"Service or option not implemented, unspecified", 501, SourceRFC3398, ""},

	// Class 101: invalid message.
	81: {"Invalid call reference value", 0, SourceNone, ""},
	82: {"Identified channel does not exist", 0, SourceNone, ""},
	83: {"A suspended call exists, but this call identity does not", 0, SourceNone, ""},
	84: {"Call identity in use", 0, SourceNone, ""},
	85: {"No call suspended", 0, SourceNone, ""},
	86: {"Call having the requested call identity has been cleared", 0, SourceNone, ""},
	87: {"User not member of CUG", 403, SourceRFC3398, ""},
	88: {"Incompatible destination", 503, SourceRFC3398, ""},
	90: {"Non-existent CUG", 0, SourceNone, ""},
	91: {"Invalid transit network selection", 0, SourceNone, ""},
	95: {"Invalid message, unspecified", 0, SourceNone, ""},

	// Class 110: protocol error.
	96:  {"Mandatory information element is missing", 0, SourceNone, ""},
	97:  {"Message type non-existent or not implemented", 0, SourceNone, ""},
	98:  {"Message not compatible with call state or message type non-existent or not implemented", 0, SourceNone, ""},
	99:  {"Information element/parameter non-existent or not implemented", 0, SourceNone, ""},
	100: {"Invalid information element contents", 0, SourceNone, ""},
	101: {"Message not compatible with call state", 0, SourceNone, ""},
	102: {"Recovery on timer expiry", 504, SourceRFC3398, ""},
	103: {"Parameter non-existent or not implemented - passed on", 0, SourceNone, ""},
	110: {"Message with unrecognized parameter discarded", 0, SourceNone, ""},
	111: {"Protocol error, unspecified", 500, SourceRFC3398, ""},

	// Class 111: interworking.
	127: {"Interworking, unspecified", 500, SourceRFC3398, ""},
}

// classDefault is the SIP status of a Q.850 cause without a status of its
// own, by class (cause value >> 4; classes 0 and 1 are both "normal
// event"). Q.850 gives every class an "unspecified" value, and a receiver
// treats a value it does not know as the unspecified value of its class;
// the status is the one RFC 3398 §7.2.4.1 gives that value (31 → 480,
// 47 → 503, 79 → 501, 111 → 500, 127 → 500). RFC 3398 lists no status for
// 63 and 95, so this package chooses: 503 for class 011 (its listed
// neighbour 58 is 503; 55 and 57 are 403 because they are refusals, not
// lack of service) and 500 for class 101 (a message the far network could
// not handle is a server-side failure, as protocol errors are).
var classDefault = [8]int{
	0: 480, // 31 Normal, unspecified
	1: 480,
	2: 503, // 47 Resource unavailable, unspecified
	3: 503, // 63 Service or option not available, unspecified (choice)
	4: 501, // 79 Service or option not implemented, unspecified
	5: 500, // 95 Invalid message, unspecified (choice)
	6: 500, // 111 Protocol error, unspecified
	7: 500, // 127 Interworking, unspecified
}

// invalidCauseStatus is the status for a cause value outside 1-127: it is
// an interworking failure (127).
const invalidCauseStatus = 500

// sipRow is the Q.850 cause of one SIP final status.
type sipRow struct {
	cause int
	src   Source
	note  string
}

// sipStatuses is RFC 3398 §8.2.6.1: the Q.850 cause for a SIP failure
// response, used when the response carries no Q.850 Reason of its own.
// Statuses not listed map to 31 "Normal, unspecified" (Unspecified), as
// the RFC says for every status it omits; 2xx map to 16 (see FromSIP).
// RFC 3398's "(+)" rows (the gateway may retry instead of releasing) and
// "(*)" rows (401/407: retry with credentials) are mapped as listed; the
// B2BUA relays those responses rather than retrying.
var sipStatuses = map[int]sipRow{
	400: {41, SourceRFC3398, ""},
	401: {21, SourceRFC3398, ""},
	402: {21, SourceRFC3398, ""},
	403: {21, SourceRFC3398, ""},
	404: {1, SourceRFC3398, ""},
	405: {63, SourceRFC3398, ""},
	406: {79, SourceRFC3398, ""},
	407: {21, SourceRFC3398, ""},
	408: {102, SourceRFC3398, ""},
	410: {22, SourceRFC3398, ""},
	413: {127, SourceRFC3398, ""},
	414: {127, SourceRFC3398, ""},
	415: {79, SourceRFC3398, ""},
	416: {127, SourceRFC3398, ""},
	420: {127, SourceRFC3398, ""},
	421: {127, SourceRFC3398, ""},
	423: {127, SourceRFC3398, ""},
	480: {18, SourceRFC3398, ""},
	481: {41, SourceRFC3398, ""},
	482: {25, SourceRFC3398, ""},
	483: {25, SourceRFC3398, ""},
	484: {28, SourceRFC3398, ""},
	485: {1, SourceRFC3398, ""},
	486: {17, SourceRFC3398, ""},
	487: {16, SourceChoice,
		"RFC 3398 gives no mapping: 487 answers a CANCEL, and §8.2.6.1 maps CANCEL to 16 'Normal call clearing'"},
	488: {65, SourceChoice,
		"RFC 3398 maps by the Warning header, whose RFC 3261 codes all describe an unusable session description; 65 'Bearer capability not implemented' is that failure and maps back to 488 (§7.2.4.1)"},
	500: {41, SourceRFC3398, ""},
	501: {79, SourceRFC3398, ""},
	502: {38, SourceRFC3398, ""},
	503: {41, SourceRFC3398, ""},
	504: {102, SourceRFC3398, ""},
	505: {127, SourceErratum, "RFC 3398 prints a second '504' for 'Version Not Supported', which is 505"},
	513: {127, SourceRFC3398, ""},
	600: {17, SourceRFC3398, ""},
	603: {21, SourceRFC3398, ""},
	604: {1, SourceRFC3398, ""},
	606: {65, SourceChoice, "as 488: RFC 3398 maps by the Warning header"},
}

// Unspecified is the Q.850 cause of a SIP status RFC 3398 §8.2.6.1 does
// not list: 31 "Normal, unspecified".
const Unspecified = 31

// Normal is the Q.850 cause of a call ended by BYE or CANCEL and of a
// 2xx: 16 "Normal call clearing" (RFC 3398 §8.2.6.1).
const Normal = 16

// TimerExpiry is the Q.850 cause of a call Switchboard ends because a
// timer ran out, such as the RTP inactivity timeout on a dead peer:
// 102 "Recovery on timer expiry".
const TimerExpiry = 102
