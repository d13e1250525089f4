package muc

import (
	"encoding/json"
	"strconv"

	"parley/internal/dataform"
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
	// Creator is the bare JID of the user whose join created the room;
	// empty for rooms an operator made. Rooms count against their
	// creator's limits (quota.go); it is not part of the form.
	Creator string `json:"creator,omitempty"`
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
	b := dataform.BoolValue
	text := func(v, label, value string) dataform.Field {
		return dataform.NewField(v, dataform.TextSingle, label, value)
	}
	boolean := func(v, label string, value bool) dataform.Field {
		return dataform.NewField(v, dataform.Boolean, label, b(value))
	}
	f := dataform.New(dataform.TypeForm, NSRoomConfig,
		text(fRoomName, "Natural-language room name", c.Name),
		text(fRoomDesc, "Short description of the room", c.Description),
		boolean(fPersistent, "Make room persistent", c.Persistent),
		boolean(fPublic, "Make room publicly searchable", c.Public),
		boolean(fMembersOnly, "Make room members-only", c.MembersOnly),
		boolean(fModerated, "Make room moderated", c.Moderated),
		boolean(fPasswordProt, "Password required to enter", c.PasswordProtected),
		dataform.NewField(fSecret, dataform.TextPrivate, "Password", c.Password),
		dataform.ListField(fWhoIs, "Who may discover real JIDs", c.WhoIs, "moderators", "anyone"),
		dataform.ListField(fMaxUsers, "Maximum number of occupants", maxUsersValue(c.MaxUsers),
			"10", "20", "30", "50", "100", "none"),
		boolean(fChangeSubject, "Allow occupants to change the subject", c.ChangeSubject),
		boolean(fAllowInvites, "Allow occupants to invite others", c.AllowInvites),
		dataform.ListField(fAllowPM, "Who may send private messages", c.AllowPM,
			"anyone", "participants", "moderators", "none"),
		boolean(fLogging, "Enable public logging", c.Logging),
		boolean(fArchiving, "Archive messages (persistent rooms)", !c.NoArchive),
		boolean(fAllowVoiceRequests, "Allow visitors to request voice", !c.NoVoiceRequests),
		text(fVoiceRequestInterval, "Minimum seconds between voice requests (0: no limit)",
			strconv.Itoa(c.VoiceRequestInterval)),
	)
	f.Title = "Room configuration"
	return f.Element()
}

func maxUsersValue(n int) string {
	if n <= 0 {
		return "none"
	}
	return strconv.Itoa(n)
}

// badValue: XEP-0045 §10.2 answers a value it will not accept with
// <not-acceptable/>.
func badValue(v string) *stanza.Error {
	return stanza.ErrNotAcceptable.WithText("invalid value for " + v)
}

// apply returns c changed by a submitted form. Fields not in the form keep
// their values (XEP-0004 §3.3 allows partial submissions); unknown fields
// are ignored.
func (c Config) apply(x *xmlstream.Element) (Config, *stanza.Error) {
	f, serr := readSubmission(x, NSRoomConfig, true)
	if serr != nil {
		return c, serr
	}
	for _, fd := range f.Fields {
		name := fd.Var
		val, verr := f.Value(name)
		if verr != nil {
			return c, badValue(name)
		}
		var err *stanza.Error
		boolean := func(dst *bool) {
			b, berr := f.Bool(name)
			if berr != nil {
				err = badValue(name)
				return
			}
			*dst = b
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
		NSModerate0,
		NSSelfPing,
		NSVCard,      // room avatars, XEP-0486 §3.1
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

// roomInfo is the muc#roominfo extended disco form (§6.4, XEP-0128),
// with the avatar's hashes when the room has one (XEP-0486 §3.3).
func (rm *room) roomInfo() *xmlstream.Element {
	c := rm.cfg
	plain := func(v, label, value string) dataform.Field { return dataform.NewField(v, "", label, value) }
	fields := []dataform.Field{
		plain("muc#roominfo_description", "Description", c.Description),
		plain("muc#roominfo_occupants", "Number of occupants", strconv.Itoa(len(rm.occupants))),
		plain("muc#roominfo_subject", "Current subject", rm.subject),
		dataform.NewField("muc#roominfo_subjectmod", dataform.Boolean, "Occupants may change the subject",
			dataform.BoolValue(c.ChangeSubject)),
		plain("muc#roomconfig_roomname", "Natural-language room name", c.Name),
		plain(fWhoIs, "Real JIDs of occupants are visible to", c.WhoIs),
		plain(fAllowPM, "Who may send private messages", c.AllowPM),
	}
	if rm.vcard != nil && len(rm.vcard.hashes) > 0 {
		fields = append(fields, dataform.NewField(fieldAvatarHash, dataform.TextMulti, "Avatar hash", rm.vcard.hashes...))
	}
	return dataform.New(dataform.TypeResult, NSRoomInfo, fields...).Element()
}
