package muc

import (
	"encoding/json"
	"strconv"
	"strings"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Config is a room's configuration (XEP-0045 §10.2, muc#roomconfig). It
// is stored as JSON in store.Room.Config; new fields need defaults that
// read well from older records (the zero value, or handled in decode).
type Config struct {
	Name              string `json:"name,omitempty"`
	Description       string `json:"description,omitempty"`
	Persistent        bool   `json:"persistent,omitempty"`
	Public            bool   `json:"public"`
	MembersOnly       bool   `json:"members_only,omitempty"`
	Moderated         bool   `json:"moderated,omitempty"`
	PasswordProtected bool   `json:"password_protected,omitempty"`
	Password          string `json:"password,omitempty"`
	// WhoIs is who may see occupants' real JIDs: "moderators"
	// (semi-anonymous) or "anyone" (non-anonymous).
	WhoIs    string `json:"whois"`
	MaxUsers int    `json:"max_users,omitempty"` // 0: no limit
	// ChangeSubject lets participants change the subject; moderators
	// always may.
	ChangeSubject bool `json:"change_subject,omitempty"`
	AllowInvites  bool `json:"allow_invites,omitempty"`
	// AllowPM is who may send private messages: anyone, participants,
	// moderators or none.
	AllowPM string `json:"allow_pm"`
	Logging bool   `json:"logging,omitempty"` // public logs
	// NoArchive turns the room's message archive (XEP-0313) off; a
	// persistent room archives by default (the zero value reads well from
	// records stored before the field existed).
	NoArchive bool `json:"no_archive,omitempty"`
	// NoVoiceRequests refuses visitors' voice requests (§7.13); rooms
	// take them by default, which older records read as.
	NoVoiceRequests bool `json:"no_voice_requests,omitempty"`
	// VoiceRequestInterval is the least time, in seconds, between two
	// voice requests of one user; 0 allows any rate. Not omitempty: an
	// older record without it takes the default from DefaultConfig.
	VoiceRequestInterval int `json:"voice_request_interval"`
}

// DefaultConfig is an instant room's configuration (§10.1.2): public,
// open, unmoderated, semi-anonymous, temporary.
func DefaultConfig() Config {
	return Config{Public: true, WhoIs: "moderators", AllowPM: "anyone", VoiceRequestInterval: 60}
}

func (c Config) encode() []byte {
	b, _ := json.Marshal(c)
	return b
}

func decodeConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	if c.WhoIs == "" {
		c.WhoIs = "moderators"
	}
	if c.AllowPM == "" {
		c.AllowPM = "anyone"
	}
	return c, nil
}

func (c Config) nonAnonymous() bool { return c.WhoIs == "anyone" }

// field builds a data form field.
func field(v, typ, label string, values ...string) *xmlstream.Element {
	f := xmlstream.New("field", NSData, "var", v)
	if typ != "" {
		f.Attr = append(f.Attr, xmlstream.Attr{Name: "type", Value: typ})
	}
	if label != "" {
		f.Attr = append(f.Attr, xmlstream.Attr{Name: "label", Value: label})
	}
	for _, val := range values {
		f.Add(xmlstream.NewText("value", NSData, val))
	}
	return f
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func listField(v, label, value string, options ...string) *xmlstream.Element {
	f := field(v, "list-single", label, value)
	for _, o := range options {
		opt := xmlstream.New("option", NSData, "label", o)
		opt.Add(xmlstream.NewText("value", NSData, o))
		f.Add(opt)
	}
	return f
}

const (
	fRoomName      = "muc#roomconfig_roomname"
	fRoomDesc      = "muc#roomconfig_roomdesc"
	fPersistent    = "muc#roomconfig_persistentroom"
	fPublic        = "muc#roomconfig_publicroom"
	fMembersOnly   = "muc#roomconfig_membersonly"
	fModerated     = "muc#roomconfig_moderatedroom"
	fPasswordProt  = "muc#roomconfig_passwordprotectedroom"
	fSecret        = "muc#roomconfig_roomsecret"
	fWhoIs         = "muc#roomconfig_whois"
	fMaxUsers      = "muc#roomconfig_maxusers"
	fChangeSubject = "muc#roomconfig_changesubject"
	fAllowInvites  = "muc#roomconfig_allowinvites"
	fAllowPM       = "muc#roomconfig_allowpm"
	fLogging       = "muc#roomconfig_enablelogging"
	// fArchiving is Prosody's field for the room's MAM archive.
	fArchiving = "muc#roomconfig_enablearchiving"
	// The voice request fields are ejabberd's names, which clients that
	// configure voice requests know.
	fAllowVoiceRequests   = "muc#roomconfig_allowvoicerequests"
	fVoiceRequestInterval = "muc#roomconfig_voicerequestmininterval"
)

// maxVoiceRequestInterval bounds the configurable interval (one day).
const maxVoiceRequestInterval = 86400

// form is the configuration form an owner gets (§10.2, Example 163).
func (c Config) form() *xmlstream.Element {
	x := xmlstream.New("x", NSData, "type", "form")
	x.Add(xmlstream.NewText("title", NSData, "Room configuration"),
		field("FORM_TYPE", "hidden", "", NSRoomConfig),
		field(fRoomName, "text-single", "Natural-language room name", c.Name),
		field(fRoomDesc, "text-single", "Short description of the room", c.Description),
		field(fPersistent, "boolean", "Make room persistent", boolValue(c.Persistent)),
		field(fPublic, "boolean", "Make room publicly searchable", boolValue(c.Public)),
		field(fMembersOnly, "boolean", "Make room members-only", boolValue(c.MembersOnly)),
		field(fModerated, "boolean", "Make room moderated", boolValue(c.Moderated)),
		field(fPasswordProt, "boolean", "Password required to enter", boolValue(c.PasswordProtected)),
		field(fSecret, "text-private", "Password", c.Password),
		listField(fWhoIs, "Who may discover real JIDs", c.WhoIs, "moderators", "anyone"),
		listField(fMaxUsers, "Maximum number of occupants", maxUsersValue(c.MaxUsers),
			"10", "20", "30", "50", "100", "none"),
		field(fChangeSubject, "boolean", "Allow occupants to change the subject", boolValue(c.ChangeSubject)),
		field(fAllowInvites, "boolean", "Allow occupants to invite others", boolValue(c.AllowInvites)),
		listField(fAllowPM, "Who may send private messages", c.AllowPM,
			"anyone", "participants", "moderators", "none"),
		field(fLogging, "boolean", "Enable public logging", boolValue(c.Logging)),
		field(fArchiving, "boolean", "Archive messages (persistent rooms)", boolValue(!c.NoArchive)),
		field(fAllowVoiceRequests, "boolean", "Allow visitors to request voice", boolValue(!c.NoVoiceRequests)),
		field(fVoiceRequestInterval, "text-single", "Minimum seconds between voice requests (0: no limit)",
			strconv.Itoa(c.VoiceRequestInterval)),
	)
	return x
}

func maxUsersValue(n int) string {
	if n <= 0 {
		return "none"
	}
	return strconv.Itoa(n)
}

// errBadForm and errBadValue: XEP-0004 §3.3 leaves the errors to the
// using protocol; XEP-0045 §10.2 answers a form it cannot process with
// <bad-request/> and a value it will not accept with <not-acceptable/>.
var (
	errBadForm = stanza.ErrBadRequest.WithText("not a muc#roomconfig form submission")
)

func badValue(v string) *stanza.Error {
	return stanza.ErrNotAcceptable.WithText("invalid value for " + v)
}

// apply returns c changed by a submitted form. Fields not in the form keep
// their values (XEP-0004 §3.3 allows partial submissions); unknown fields
// are ignored.
func (c Config) apply(x *xmlstream.Element) (Config, *stanza.Error) {
	if x.Get("type") != "submit" {
		return c, errBadForm
	}
	formType := ""
	for _, f := range x.Children {
		if f.Name == "field" && f.Space == NSData && f.Get("var") == "FORM_TYPE" {
			formType = strings.TrimSpace(f.ChildText("value", NSData))
		}
	}
	// An empty submission is an instant room's "accept the defaults"
	// (§10.1.2) and carries no FORM_TYPE.
	if formType != NSRoomConfig && len(x.Children) > 0 {
		return c, errBadForm
	}
	for _, f := range x.Children {
		if f.Name != "field" || f.Space != NSData {
			continue
		}
		name := f.Get("var")
		var vals []string
		for _, v := range f.Children {
			if v.Name == "value" && v.Space == NSData {
				vals = append(vals, v.Text)
			}
		}
		if len(vals) > 1 {
			return c, badValue(name)
		}
		val := ""
		if len(vals) == 1 {
			val = vals[0]
		}
		var err *stanza.Error
		boolean := func(dst *bool) {
			switch val {
			case "1", "true":
				*dst = true
			case "0", "false", "":
				*dst = false
			default:
				err = badValue(name)
			}
		}
		switch name {
		case fRoomName:
			c.Name = val
		case fRoomDesc:
			c.Description = val
		case fPersistent:
			boolean(&c.Persistent)
		case fPublic:
			boolean(&c.Public)
		case fMembersOnly:
			boolean(&c.MembersOnly)
		case fModerated:
			boolean(&c.Moderated)
		case fPasswordProt:
			boolean(&c.PasswordProtected)
		case fSecret:
			c.Password = val
		case fChangeSubject:
			boolean(&c.ChangeSubject)
		case fAllowInvites:
			boolean(&c.AllowInvites)
		case fLogging:
			boolean(&c.Logging)
		case fArchiving:
			archive := !c.NoArchive
			boolean(&archive)
			c.NoArchive = !archive
		case fAllowVoiceRequests:
			allow := !c.NoVoiceRequests
			boolean(&allow)
			c.NoVoiceRequests = !allow
		case fVoiceRequestInterval:
			n, perr := strconv.Atoi(val)
			if perr != nil || n < 0 || n > maxVoiceRequestInterval {
				err = badValue(name)
			}
			c.VoiceRequestInterval = n
		case fWhoIs:
			if val != "moderators" && val != "anyone" {
				err = badValue(name)
			}
			c.WhoIs = val
		case fAllowPM:
			switch val {
			case "anyone", "participants", "moderators", "none":
				c.AllowPM = val
			default:
				err = badValue(name)
			}
		case fMaxUsers:
			if val == "none" || val == "" || val == "0" {
				c.MaxUsers = 0
				break
			}
			n, perr := strconv.Atoi(val)
			if perr != nil || n < 0 {
				err = badValue(name)
			}
			c.MaxUsers = n
		}
		if err != nil {
			return c, err
		}
	}
	if c.PasswordProtected && c.Password == "" {
		return c, stanza.ErrNotAcceptable.WithText("a password-protected room needs a password")
	}
	return c, nil
}

// features are the room's disco#info features (§6.4, §15.6).
func (c Config) features() []string {
	pick := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	return []string{
		NS,
		NSStanzaID,
		NSOccupantID,
		NSModerate,
		NSSelfPing,
		NSIQRegister, // §7.10, always offered
		NSRegister,
		pick(c.Public, "muc_public", "muc_hidden"),
		pick(c.Persistent, "muc_persistent", "muc_temporary"),
		pick(c.MembersOnly, "muc_membersonly", "muc_open"),
		pick(c.Moderated, "muc_moderated", "muc_unmoderated"),
		pick(c.nonAnonymous(), "muc_nonanonymous", "muc_semianonymous"),
		pick(c.PasswordProtected, "muc_passwordprotected", "muc_unsecured"),
	}
}

// roomInfo is the muc#roominfo extended disco form (§6.4, XEP-0128).
func (rm *room) roomInfo() *xmlstream.Element {
	c := rm.cfg
	x := xmlstream.New("x", NSData, "type", "result")
	x.Add(field("FORM_TYPE", "hidden", "", NSRoomInfo),
		field("muc#roominfo_description", "", "Description", c.Description),
		field("muc#roominfo_occupants", "", "Number of occupants", strconv.Itoa(len(rm.occupants))),
		field("muc#roominfo_subject", "", "Current subject", rm.subject),
		field("muc#roominfo_subjectmod", "boolean", "Occupants may change the subject", boolValue(c.ChangeSubject)),
		field("muc#roomconfig_roomname", "", "Natural-language room name", c.Name),
		field(fWhoIs, "", "Real JIDs of occupants are visible to", c.WhoIs),
		field(fAllowPM, "", "Who may send private messages", c.AllowPM),
	)
	return x
}
