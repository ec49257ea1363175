/* The AWS account and region named in the AWS-shaped events Sluice makes (EventBridge scheduled
 * events, the Kinesis and SQS records' ARNs and region). Sluice runs in no AWS account: these are
 * fixed placeholders, so handlers that parse ARNs or read the region see well-formed values. */
#ifndef SL_AWS_H
#define SL_AWS_H

#define SL_AWS_ACCOUNT "000000000000"
#define SL_AWS_REGION "us-east-1"

#endif
