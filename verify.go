package bpfsig

import (
	"fmt"
	"strings"

	"github.com/bpfsig/bpfsig/compat"
)

// Verify judges sk as the kernel of its detected scheme would, with that scheme's load
// procedure, against trust. v.OK() holds only for a signed skeleton that every stage accepts
// and that conforms to its scheme. An unsigned skeleton, or one no scheme claims, is rejected
// with the reason.
func Verify(sk *Skeleton, trust *Trust) *Verdict {
	v, _ := VerifyAs(sk, "", trust, Conditions{})
	return v
}

// VerifyAs judges sk as the kernel of scheme would ("" for the detected one), with the load
// procedure altered by cond. A scheme that does not fit the content is an error (with a
// rejected verdict): bpfsig does not judge a chain skeleton as a raw one by request.
func VerifyAs(sk *Skeleton, scheme Scheme, trust *Trust, cond Conditions) (*Verdict, error) {
	det, err := sk.Detection()
	if err != nil {
		return rejected(sk, scheme, err.Error()), err
	}
	if det.Scheme == Unsigned {
		return rejected(sk, det.Scheme, sk.Path()+": not signed"), nil
	}
	if scheme != "" && scheme != det.Scheme {
		err := fmt.Errorf("%s: scheme %s does not fit the content, which is %s (%s)", sk.Path(), scheme, det.Scheme, strings.Join(det.Evidence, "; "))
		return rejected(sk, scheme, err.Error()), err
	}
	st, err := compat.Lookup(det.Scheme)
	if err != nil {
		return rejected(sk, det.Scheme, err.Error()), err
	}
	v := st.Verify(sk.doc, trust.certs(), cond)
	applyStaticFindings(v, sk, st)
	return v, nil
}

// applyStaticFindings applies to v the static findings for the kernel st's scheme runs on: a
// scheme whose application procedure is mainline's is judged by mainline, which also refuses
// what load-time verification refuses in a signed loader (a map by raw fd, a BTF id), as
// VerifyOnKernel does. A loader of a known shape that the analysis cannot follow fails closed.
func applyStaticFindings(v *Verdict, sk *Skeleton, st compat.Strategy) {
	if sk.LoaderError() != nil {
		return
	}
	profile := ""
	if st.Info().Procedure == string(ProcMainline) {
		profile = "mainline"
	}
	_, fs, err := sk.Findings(profile)
	if err != nil {
		fs = []compat.Finding{{Severity: compat.SeverityError, Rule: "analysis", Offset: -1, Reason: err.Error()}}
	}
	applyFindings(v, fs)
}

// Judge returns how a kernel of scheme kernel, with its own load procedure altered by cond,
// treats sk as it is — whatever sk's own scheme: the cell of a compatibility matrix.
func Judge(sk *Skeleton, kernel Scheme, trust *Trust, cond Conditions) (*Verdict, error) {
	st, err := compat.Lookup(kernel)
	if err != nil {
		return nil, err
	}
	v := st.Verify(sk.doc, trust.certs(), cond)
	applyStaticFindings(v, sk, st)
	return v, nil
}

func rejected(sk *Skeleton, kernel Scheme, reason string) *Verdict {
	return &Verdict{Kernel: kernel, Artifact: sk.Scheme(), Generation: sk.Generation(), Signed: sk.Signed(), Outcome: compat.Rejected, Reason: reason}
}

// VerifyOnKernel is Verify on a kernel profile: sk, loaded by an application running proc, as
// a kernel of profile treats it (see OnKernel), with the conformance check of sk's scheme.
// v.OK() holds only for a signed skeleton the profile loads.
func VerifyOnKernel(sk *Skeleton, profile string, proc Procedure, trust *Trust) (*Verdict, error) {
	det, err := sk.Detection()
	if err != nil {
		return rejected(sk, "", err.Error()), err
	} else if det.Scheme == Unsigned {
		return rejected(sk, det.Scheme, sk.Path()+": not signed"), nil
	}
	v, err := OnKernel(sk, profile, proc, trust, Conditions{})
	if err != nil {
		return v, err
	}
	// The profile judges the load; whether the file is a well-formed skeleton of its own
	// scheme is the scheme's rule, which the profile does not know.
	if st, err := compat.Lookup(det.Scheme); err == nil {
		v.Conformance = append(v.Conformance, st.Verify(sk.doc, trust.certs(), Conditions{}).Conformance...)
	}
	return v, nil
}
