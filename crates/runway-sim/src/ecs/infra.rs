//! The AWS resources Amazon ECS creates and manages for an Express service ("Resources created by
//! Amazon ECS Express Mode services": an Application Load Balancer with an HTTPS listener, a
//! listener rule and target groups, an ACM certificate, security groups, an Application Auto
//! Scaling scalable target and target tracking policy, metric alarms and a log group), with ARNs in
//! each service's account and Region. DescribeServiceRevisions reports them
//! (`ecsManagedResources`, `revisions`); docs/aws-behaviour.md E38.

use crate::ids;

/// The service-wide resources, made with the service and shared by its revisions. Each revision
/// has its own target group (`Revision::target_group`).
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedInfra {
    /// The Application Load Balancer.
    pub load_balancer: String,
    /// The load balancer's security group ID.
    pub load_balancer_security_group: String,
    /// The ACM certificate of the HTTPS listener.
    pub certificate: String,
    /// The HTTPS listener.
    pub listener: String,
    /// The listener rule that routes the service's host name to its target group.
    pub rule: String,
    /// The Application Auto Scaling scalable target.
    pub scalable_target: String,
    /// The target tracking scaling policy.
    pub scaling_policy: String,
    /// The metric alarms: the two of the target tracking policy and the deployment alarm.
    pub alarms: Vec<String>,
}

/// The load balancer's name: ECS names them `ecs-express-gateway-alb-<random>`.
fn load_balancer_name() -> String {
    format!("ecs-express-gateway-alb-{}", ids::hex(8))
}

impl ManagedInfra {
    /// New resources for the service `name` in `cluster`, in `account` and `region`.
    pub fn new(region: &str, account: &str, cluster: &str, name: &str) -> Self {
        let elb = format!("arn:aws:elasticloadbalancing:{region}:{account}");
        let lb_name = load_balancer_name();
        let (lb_id, listener_id) = (ids::hex(16), ids::hex(16));
        let alarm = |suffix: &str| format!("arn:aws:cloudwatch:{region}:{account}:alarm:{suffix}");
        let resource = format!("service/{cluster}/{name}");
        Self {
            load_balancer: format!("{elb}:loadbalancer/app/{lb_name}/{lb_id}"),
            load_balancer_security_group: format!("sg-{}", ids::hex(17)),
            certificate: format!("arn:aws:acm:{region}:{account}:certificate/{}", ids::uuid_v4()),
            listener: format!("{elb}:listener/app/{lb_name}/{lb_id}/{listener_id}"),
            rule: format!(
                "{elb}:listener-rule/app/{lb_name}/{lb_id}/{listener_id}/{}",
                ids::hex(16)
            ),
            scalable_target: format!(
                "arn:aws:application-autoscaling:{region}:{account}:scalable-target/0e{}",
                ids::hex(30)
            ),
            scaling_policy: format!(
                "arn:aws:autoscaling:{region}:{account}:scalingPolicy:{}:resource/ecs/{resource}:policyName/{name}-scaling-policy",
                ids::uuid_v4()
            ),
            alarms: vec![
                alarm(&format!("TargetTracking-{resource}-AlarmHigh-{}", ids::uuid_v4())),
                alarm(&format!("TargetTracking-{resource}-AlarmLow-{}", ids::uuid_v4())),
                alarm(&format!("{name}-deployment-alarm-{}", ids::hex(8))),
            ],
        }
    }
}

/// A new target group for one revision of the service `name`.
pub fn target_group(region: &str, account: &str, name: &str) -> String {
    let short: String = name.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    format!(
        "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/ecs-gateway-tg-{short}-{}/{}",
        ids::hex(6),
        ids::hex(16)
    )
}

/// The ARN of a security group.
pub fn security_group_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:security-group/{id}")
}

/// The ARN of a log group.
pub fn log_group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}

/// The Application Auto Scaling metric of an Express scaling metric.
pub fn scaling_metric(metric: &str) -> &'static str {
    match metric {
        "AVERAGE_MEMORY" => "ECSServiceAverageMemoryUtilization",
        "REQUEST_COUNT_PER_TARGET" => "ALBRequestCountPerTarget",
        _ => "ECSServiceAverageCPUUtilization",
    }
}

/// The reason a load balancer that could not be made reports (an injected failure; the text is the
/// simulator's, docs/aws-behaviour.md X4).
pub const LOAD_BALANCER_FAILURE: &str = "Amazon ECS could not create the Application Load Balancer: \
     TooManyLoadBalancers: the account's quota of load balancers is reached.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_in_the_services_account_and_region() {
        let infra = ManagedInfra::new("eu-west-1", "210987654321", "prod", "web_app");
        for arn in [
            &infra.load_balancer,
            &infra.certificate,
            &infra.listener,
            &infra.rule,
            &infra.scalable_target,
            &infra.scaling_policy,
            &infra.alarms[0],
        ] {
            assert!(arn.contains(":eu-west-1:210987654321:"), "{arn}");
        }
        assert!(
            infra
                .load_balancer
                .contains(":loadbalancer/app/ecs-express-gateway-alb-"),
            "{}",
            infra.load_balancer
        );
        assert!(
            infra
                .listener
                .starts_with(&infra.load_balancer.replace(":loadbalancer/", ":listener/"))
        );
        let tg = target_group("eu-west-1", "210987654321", "web_app");
        assert!(tg.contains(":targetgroup/ecs-gateway-tg-webapp-"), "{tg}");
        assert_eq!(scaling_metric("AVERAGE_CPU"), "ECSServiceAverageCPUUtilization");
    }
}
