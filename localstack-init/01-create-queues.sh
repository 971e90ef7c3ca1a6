#!/usr/bin/env bash
# LocalStack "ready" hook (mounted into /etc/localstack/init/ready.d/): create the SQS queues.
# `orders` is the primary's queue, `orders-shadow` the shadow run's; each sends messages it
# failed to handle MAX_RECEIVES times to its own dead-letter queue.
set -euo pipefail

MAX_RECEIVES=5

# create_queue_with_dlq NAME: create NAME-dlq, then NAME with a redrive policy pointing at it.
create_queue_with_dlq() {
    local name="$1" dlq="$1-dlq" dlq_url dlq_arn attributes
    dlq_url=$(awslocal sqs create-queue --queue-name "$dlq" --query QueueUrl --output text)
    dlq_arn=$(awslocal sqs get-queue-attributes --queue-url "$dlq_url" \
        --attribute-names QueueArn --query Attributes.QueueArn --output text)
    # RedrivePolicy is a JSON document stored as a string inside the attributes JSON.
    attributes=$(printf '{"RedrivePolicy":"{\\"deadLetterTargetArn\\":\\"%s\\",\\"maxReceiveCount\\":\\"%s\\"}"}' \
        "$dlq_arn" "$MAX_RECEIVES")
    awslocal sqs create-queue --queue-name "$name" --attributes "$attributes" >/dev/null
    echo "localstack-init: created SQS queues $name and $dlq"
}

# Queue names follow pipelines/queues/names.py: <stream>-<target>, for the primary target and its shadow.
# (The workers also create their queues themselves; these are here so the compose stack starts with them.)
create_queue_with_dlq orders-warehouse
create_queue_with_dlq orders-shadow_warehouse
