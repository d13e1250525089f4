// Package dlp is data loss prevention: policies that find sensitive data
// (card numbers, IBANs, US social security numbers, private keys, cloud
// access keys, keywords, regular expressions) in what local users send, and
// flag, redact or block it before it is delivered or archived.
//
// All policies are compiled together into one Engine: a single pass over a
// text runs one Aho-Corasick automaton (the keywords and the literal
// prefixes of the built-in detectors) and tracks runs of digits and of
// letters and digits; validators (Luhn, ISO 13616 mod-97, the SSA's SSN
// rules, token checksums) run only on the candidates that pass. The users'
// regular expressions are joined into one, which is run once and, only when
// it matches, split into the policies that matched. See
// docs/design/17_dlp.md and docs/compliance-guide.md.
//
// internal/dlp/enforce applies the engine to stanzas as the router's outbound
// check (once per message, before fan-out): message bodies and corrections
// (XEP-0308), room subjects (XEP-0045), upload slot requests (XEP-0363 file
// names and content types) and vCard text (vcard-temp, vCard4 over PEP).
package dlp
