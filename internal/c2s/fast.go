package c2s

import (
	"context"
	"errors"

	"parley/internal/sasl"
	"parley/internal/xmlstream"
)

const nsFAST = "urn:xmpp:fast:0" // XEP-0484

func (r *sasl2Request) addFAST(el *xmlstream.Element) error {
	return errors.New("FAST is not offered")
}

func (srv *Server) isFASTMechanism(string) bool               { return false }
func (srv *Server) appendFASTFeature(b []byte, _ bool) []byte { return b }

func (s *session) startFAST(context.Context, string, *sasl2Request, sasl.Channel) (*sasl.Server, *sasl.Failure) {
	return nil, &sasl.Failure{Condition: sasl.InvalidMechanism}
}

func (s *session) fastSuccess(context.Context, *sasl2Request) ([]byte, error) { return nil, nil }
