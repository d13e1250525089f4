package muc

// DataForm is dataForm for the integration tests (package muc_test):
// a data form of "var=value" fields, each var after prefix, FORM_TYPE
// first unless formType is "".
func DataForm(typ, formType, prefix string, fields ...string) string {
	return dataForm(typ, formType, prefix, fields...)
}
