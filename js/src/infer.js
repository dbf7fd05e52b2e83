// Service and region from an AWS hostname, with the rules of aws4fetch's guessServiceRegion:
// s3.us-west-2.amazonaws.com, bucket.s3.eu-west-1.amazonaws.com, sts.amazonaws.com,
// dynamodb.ap-south-1.amazonaws.com, lambda URLs (*.lambda-url.REGION.on.aws), R2, Backblaze B2.

// Hostname prefixes whose signing name differs.
const HOST_SERVICES = {
  appstream2: 'appstream',
  cloudhsmv2: 'cloudhsm',
  email: 'ses',
  marketplace: 'aws-marketplace',
  mobile: 'AWSMobileHubService',
  pinpoint: 'mobiletargeting',
  queue: 'sqs',
  'git-codecommit': 'codecommit',
  'mturk-requester-sandbox': 'mturk-requester',
  'personalize-runtime': 'personalize',
};

/** [service, region] for `url` (a URL); empty strings for what cannot be told. */
export function inferServiceRegion(url, headers) {
  const { hostname, pathname } = url;
  if (hostname.endsWith('.on.aws')) {
    const match = hostname.match(/^[^.]{1,63}\.lambda-url\.([^.]{1,63})\.on\.aws$/);
    return match ? ['lambda', match[1]] : ['', ''];
  }
  if (hostname.endsWith('.r2.cloudflarestorage.com')) return ['s3', 'auto'];
  if (hostname.endsWith('.backblazeb2.com')) {
    const match = hostname.match(/^(?:[^.]{1,63}\.)?s3\.([^.]{1,63})\.backblazeb2\.com$/);
    return match ? ['s3', match[1]] : ['', ''];
  }
  const match = hostname.replace('dualstack.', '').match(/([^.]{1,63})\.(?:([^.]{0,63})\.)?amazonaws\.com(?:\.cn)?$/);
  let service = match?.[1] ?? '';
  let region = match?.[2];
  if (region === 'us-gov') {
    region = 'us-gov-west-1';
  } else if (region === 's3' || region === 's3-accelerate') {
    // bucket.s3.amazonaws.com, bucket.s3-accelerate.amazonaws.com
    region = 'us-east-1';
    service = 's3';
  } else if (service === 'iot') {
    service = hostname.startsWith('iot.') ? 'execute-api'
      : hostname.startsWith('data.jobs.iot.') ? 'iot-jobs-data'
      : pathname === '/mqtt' ? 'iotdevicegateway'
      : 'iotdata';
  } else if (service === 'autoscaling') {
    const target = (headers?.get('x-amz-target') ?? '').split('.')[0];
    if (target === 'AnyScaleFrontendService') service = 'application-autoscaling';
    else if (target === 'AnyScaleScalingPlannerFrontendService') service = 'autoscaling-plans';
  } else if (region == null && service.startsWith('s3-')) {
    // s3-us-west-2.amazonaws.com, s3-external-1.amazonaws.com
    region = service.slice(3).replace(/^fips-|^external-1/, '');
    service = 's3';
  } else if (service.endsWith('-fips')) {
    service = service.slice(0, -5);
  } else if (region && /-\d$/.test(service) && !/-\d$/.test(region)) {
    // The region first: us-east-1.service.amazonaws.com
    [service, region] = [region, service];
  }
  return [HOST_SERVICES[service] ?? service, region ?? ''];
}
