package cms

import (
	"crypto/x509"
	"fmt"
	"os"
)

func ExampleVerify() {
	insn, _ := os.ReadFile("../../testdata/blobs/legacy-v2.insn")
	sig, _ := os.ReadFile("../../testdata/blobs/legacy-v2.sig")
	der, _ := os.ReadFile("../../testdata/keys/test-rsa2048.crt.der")
	cert, _ := x509.ParseCertificate(der)

	s, err := Verify(insn, sig, []*x509.Certificate{cert})
	fmt.Println(s.SignerString(), s.AlgorithmName(), s.DigestName(), err)

	_, err = Verify(insn, sig, nil)
	fmt.Println(err)

	insn[0] ^= 1
	_, err = Verify(insn, sig, []*x509.Certificate{cert})
	fmt.Println(err)

	_, err = Verify(insn, sig[:200], []*x509.Certificate{cert})
	fmt.Println(err)
	// Output:
	// skid:e7d6e662db68fa0c93c5cfa53cb25871a920177a rsa sha256 <nil>
	// cms: PKCS#7 signature not signed with a trusted key (signer skid:e7d6e662db68fa0c93c5cfa53cb25871a920177a; 0 certificate(s) in the keyring): required key not available
	// cms: signature rejected by trusted key "CN=bpfsig fixture RSA-2048" (RSA signature does not match the digest): key was rejected by service
	// cms: ASN.1 data overrun: element of 371 bytes, 196 left: bad message
}
