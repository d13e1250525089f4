// Package dlp is data loss prevention: policies that find sensitive data
// (card numbers, IBANs, US social security numbers, private keys, cloud
// access keys, keywords, regular expressions) in what local users send, and
// flag, redact or block it before it is delivered or archived.
//
// All policies are compiled together into one Engine: a single pass over a
// text runs one Aho-Corasick automaton (the keywords, the literal prefixes
// of the token-shaped built-ins, and the literals each regular expression
// must contain) and tracks groups of digits and IBAN starts; validators
// (Luhn and issuer ranges, ISO 13616 mod-97, the SSA's SSN rules, base32
// and base64 shapes) run only on the candidates, and a regular expression
// runs only when one of its literals occurred. See docs/design/23_dlp.md
// and docs/compliance-guide.md.
//
// internal/dlp/enforce applies the engine to stanzas as the router's outbound
// check (once per message, before fan-out): message bodies and corrections
// (XEP-0308), room subjects (XEP-0045), upload slot requests (XEP-0363 file
// names and content types) and vCard text (vcard-temp, vCard4 over PEP).
package dlp
