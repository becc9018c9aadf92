//! A throwaway certificate authority for serving the bundled reference over https: the https
//! rules (the `__Secure-` cookie prefix, the Secure attribute) only show on an https base URL.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// PEM texts: the CA to trust, and the server's certificate and private key.
pub struct LoopbackTls {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

impl std::fmt::Debug for LoopbackTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackTls").finish_non_exhaustive()
    }
}

/// A fresh CA and a server certificate it signed for 127.0.0.1 and localhost. The CA key is
/// dropped when this returns: nothing else can ever be signed by it.
pub fn generate_loopback_tls() -> Result<LoopbackTls, rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ba-harness throwaway CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    // A string that parses as an IP address becomes an IP SAN.
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "ba-harness reference");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let server_key = KeyPair::generate()?;
    let server_cert = server_params.signed_by(&server_key, &ca)?;
    Ok(LoopbackTls {
        ca_pem: ca.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
    })
}

/// Reads a `--ca-cert` file: PEM that reqwest accepts as a root certificate.
pub fn read_ca_pem(path: &std::path::Path) -> Result<String, crate::error::HarnessError> {
    let usage = crate::error::HarnessError::Usage;
    let pem = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--ca-cert {}: {e}", path.display())))?;
    reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
        usage(format!(
            "--ca-cert {} is not a PEM certificate: {e}",
            path.display()
        ))
    })?;
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_pem_for_ca_certificate_and_key() {
        let tls = generate_loopback_tls().unwrap();
        assert!(tls.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(
            tls.server_cert_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert!(tls.server_key_pem.contains("PRIVATE KEY-----"));
        assert_ne!(tls.ca_pem, tls.server_cert_pem);
        // reqwest accepts the CA as a root.
        reqwest::Certificate::from_pem(tls.ca_pem.as_bytes()).unwrap();
    }
}
