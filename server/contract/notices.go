package contract

// Contract mail kinds (Notice.Kind).
const (
	// NoticeEnding: a contract that does not renew ends in EndingMailDays
	// days or fewer.
	NoticeEnding = "contract-ending"
	// NoticeEnded: a contract that does not renew has reached its last day.
	NoticeEnded = "contract-ended"
)

// endedMailDays is how long after its last day a contract's "ended" mail
// may still go out, when the server was down on the day itself.
const endedMailDays = 7

// Notice is one contract mail due.
type Notice struct {
	Kind string
	// End is the contract's last day; with Kind it names the mail, so each
	// goes out once per end date (a changed end date gets its own mails).
	End Day
	// DaysLeft counts the days from today to End (0 on the last day,
	// negative when the mail is late).
	DaysLeft int
}

// NoticeDue returns the contract mail due on day today, if any: from
// EndingMailDays days before a contract that does not renew ends until
// the day before, NoticeEnding; from its last day for a week, NoticeEnded.
// The windows let a server that was down on the day catch up; the caller
// sends each (Kind, End) once.
func (c *Contract) NoticeDue(today Day) (Notice, bool) {
	end, ok := c.Final()
	if !ok || end.Before(c.Start) {
		return Notice{}, false
	}
	left := today.DaysUntil(end)
	switch {
	case left > EndingMailDays:
		return Notice{}, false
	case left > 0:
		return Notice{Kind: NoticeEnding, End: end, DaysLeft: left}, true
	case left > -endedMailDays:
		return Notice{Kind: NoticeEnded, End: end, DaysLeft: left}, true
	}
	return Notice{}, false
}
