//! Running `stagegate audit verify`: the AWS configuration, the bucket's client, and the report
//! printed as text or as the `--output json` document. Its own module because `output` holds
//! `audit`'s document among its own: `audit` must not import `output` back.

use stagegate::aws::S3Records;
use stagegate::record::chain;

use super::{exit_of, fetch, text, AuditDocument, VerifyArgs};
use crate::aws;
use crate::exit::Exit;
use crate::output::{Document, Format};

/// The command: fetch, verify, print; the exit code says whether the chain is whole.
pub async fn run(args: &VerifyArgs, format: Format) -> Result<Exit, String> {
    let prefix = args.prefix()?;
    let config = aws::load(&args.aws, None).await?;
    let store = S3Records::for_bucket(
        &config,
        args.bucket.clone(),
        aws::endpoint_url(args.endpoint_url.as_deref(), "S3"),
    );
    let report = chain::verify(&fetch(&store, &prefix).await?);
    match format {
        Format::Text => print!("{}", text(args, &report)),
        Format::Json => {
            eprint!("{}", text(args, &report));
            Document::Audit(AuditDocument::new(args, &report)).print();
        }
    }
    Ok(exit_of(&report))
}
