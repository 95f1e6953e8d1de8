import { graphql } from "react-relay";

export const query = graphql`
  query MeetingsPageQuery($count: Int!, $cursor: String) {
    ...MeetingsPage_list @arguments(count: $count, cursor: $cursor)
  }
`;

export const list = graphql`
  fragment MeetingsPage_list on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" })
  @refetchable(queryName: "MeetingsPagePaginationQuery") {
    meetings(first: $count, after: $cursor) @connection(key: "MeetingsPage_meetings") {
      totalCount
      edges { node { id title startTime provider ...MeetingCard_meeting } }
    }
  }
`;
