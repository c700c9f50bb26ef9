"""CloudFormation custom resource that seeds the API version mapping table at deploy time."""
