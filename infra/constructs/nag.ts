/**
 * Helpers for cdk-nag v3 acknowledgements (`Validations.of(construct).acknowledge`). Findings that carry
 * a resource in their id (e.g. `AwsSolutions-IAM5[Resource::<Table1234.Arn>/index/*]`) are rebuilt
 * from the construct's logical id, so an acknowledgement cannot silently cover a different resource.
 */
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export const acknowledge = (construct: IConstruct, id: string, reason: string): void =>
  Validations.of(construct).acknowledge({ id, reason });

/** How cdk-nag renders a reference to a construct: `<LogicalId>` (Ref) or `<LogicalId.Attr>` (GetAtt). */
export const nagRef = (construct: IConstruct, attribute?: string): string => {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!element || !CfnElement.isCfnElement(element)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  const logicalId = Stack.of(construct).getLogicalId(element);
  return attribute ? `<${logicalId}.${attribute}>` : `<${logicalId}>`;
};
