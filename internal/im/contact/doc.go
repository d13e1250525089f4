// Package contact publishes the server's contact addresses (XEP-0157) in
// its service discovery: a data form of FORM_TYPE
// http://jabber.org/network/serverinfo in the domain's disco#info
// (XEP-0128), one list of URIs per kind (abuse, admin, feedback, sales,
// security, support). Kinds without addresses are left out, and with none
// at all there is no form.
package contact
