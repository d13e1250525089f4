package sasl

// Condition is a SASL failure condition of RFC 6120 §6.5, the element name
// inside <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>.
type Condition string

// RFC 6120 §6.5.1–6.5.11.
const (
	Aborted              Condition = "aborted"
	AccountDisabled      Condition = "account-disabled"
	CredentialsExpired   Condition = "credentials-expired"
	EncryptionRequired   Condition = "encryption-required"
	IncorrectEncoding    Condition = "incorrect-encoding"
	InvalidAuthzid       Condition = "invalid-authzid"
	InvalidMechanism     Condition = "invalid-mechanism"
	MalformedRequest     Condition = "malformed-request"
	MechanismTooWeak     Condition = "mechanism-too-weak"
	NotAuthorized        Condition = "not-authorized"
	TemporaryAuthFailure Condition = "temporary-auth-failure"
)

// Failure ends an exchange. Text is for the optional <text/> child; it never
// says whether the account exists.
type Failure struct {
	Condition Condition
	Text      string
}

func (f *Failure) Error() string {
	if f.Text == "" {
		return "sasl: " + string(f.Condition)
	}
	return "sasl: " + string(f.Condition) + ": " + f.Text
}

// Is makes errors.Is(err, &Failure{Condition: c}) match on the condition
// alone, so callers need not know the text.
func (f *Failure) Is(target error) bool {
	t, ok := target.(*Failure)
	return ok && t.Condition == f.Condition && (t.Text == "" || t.Text == f.Text)
}

func fail(c Condition, text string) *Failure { return &Failure{Condition: c, Text: text} }
